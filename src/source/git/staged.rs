//! `--staged`: what the next commit would add (being built).
