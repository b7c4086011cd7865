//! `--color auto|always|never`, and the environment conventions behind `auto`:
//! a non-empty `NO_COLOR` turns colour off, a non-empty `CLICOLOR_FORCE` (other than `0`)
//! turns it on even when not on a terminal, `TERM=dumb` turns it off.

/// When the text report may use colour.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum ColorChoice {
    /// Colour on a terminal, following NO_COLOR, CLICOLOR_FORCE and TERM=dumb.
    #[default]
    Auto,
    Always,
    Never,
}

impl ColorChoice {
    /// Whether to colour output going to a terminal (`to_terminal`) or not.
    pub fn enabled(self, to_terminal: bool) -> bool {
        let var = |name: &str| std::env::var_os(name).filter(|v| !v.is_empty());
        match self {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => decide(
                to_terminal,
                var("NO_COLOR").is_some(),
                var("CLICOLOR_FORCE").is_some_and(|v| v != "0"),
                std::env::var_os("TERM").is_some_and(|t| t == "dumb"),
            ),
        }
    }
}

fn decide(to_terminal: bool, no_color: bool, force: bool, dumb: bool) -> bool {
    if no_color {
        return false;
    }
    if force {
        return true;
    }
    to_terminal && !dumb
}

#[cfg(test)]
mod tests {
    use super::decide;

    #[test]
    fn no_color_wins_then_force_then_terminal() {
        assert!(!decide(true, true, true, false));
        assert!(decide(false, false, true, false));
        assert!(!decide(true, false, false, true));
        assert!(decide(true, false, false, false));
        assert!(!decide(false, false, false, false));
    }
}
