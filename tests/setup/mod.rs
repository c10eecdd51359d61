//! Setup from the command line: modes, exit codes, key sources, refusals, mistakes newcomers
//! make, review in a terminal, many roots in one run.

mod cli;
mod many_roots;
mod mistakes;
mod review;
