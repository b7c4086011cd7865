//! The verdict: the one word a remediation ticket closes on, and the exit code that goes
//! with it.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    /// At least one secret was seen somewhere.
    Found,
    /// Nothing was seen, but something could not be scanned: absence is not proven.
    Incomplete,
    /// Nothing was seen and everything in scope was scanned.
    Absent,
}

impl Verdict {
    /// Found wins over gaps: a finding is certain whatever else was missed.
    pub fn decide(findings: usize, gaps: usize) -> Verdict {
        if findings > 0 {
            Verdict::Found
        } else if gaps > 0 {
            Verdict::Incomplete
        } else {
            Verdict::Absent
        }
    }

    pub fn exit_code(self) -> i32 {
        match self {
            Verdict::Absent => 0,
            Verdict::Found => 1,
            Verdict::Incomplete => 3,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Found => "found",
            Verdict::Incomplete => "incomplete",
            Verdict::Absent => "absent",
        }
    }
}

/// Exit code for usage errors and failures that produced no verdict.
pub const EXIT_ERROR: i32 = 2;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn findings_beat_gaps_and_gaps_beat_absence() {
        assert_eq!(Verdict::decide(1, 5), Verdict::Found);
        assert_eq!(Verdict::decide(0, 1), Verdict::Incomplete);
        assert_eq!(Verdict::decide(0, 0), Verdict::Absent);
        assert_eq!(Verdict::Incomplete.exit_code(), 3);
    }
}
