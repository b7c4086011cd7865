//! `--git-range`: objects introduced by a range of commits (being built).
