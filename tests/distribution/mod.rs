//! The distribution channels: the crate, archives and container, the npm package, the
//! skill's setup.sh, and every example in the docs.

mod channels;
mod docs_examples;
mod npm_install;
mod setup_sh;
