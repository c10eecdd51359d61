//! Roots another user owns, and directories linked out of the root.

mod dir_links;
mod privileged;
