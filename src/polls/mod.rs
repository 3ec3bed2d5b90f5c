//! Polls: a post may ask a question with 2-6 options and a closing time. Each person votes once and
//! may change their vote until the poll closes; results show after you voted or after it closed.

pub mod store;

use serde::Deserialize;

pub const MAX_OPTIONS: usize = 6;
const MAX_LABEL_CHARS: usize = 80;

/// The poll part of a compose form: up to six options and how long the poll stays open.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct PollForm {
    pub option1: String,
    pub option2: String,
    pub option3: String,
    pub option4: String,
    pub option5: String,
    pub option6: String,
    /// Hours the poll stays open.
    pub poll_hours: String,
}

/// A checked poll: the only shape the store accepts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewPoll {
    pub options: Vec<String>,
    pub open_seconds: i64,
}

/// The durations offered, in hours, with their labels.
pub const DURATIONS: [(i64, &str); 4] = [(1, "1 hour"), (24, "1 day"), (72, "3 days"), (168, "1 week")];

impl PollForm {
    pub fn options(&self) -> [&str; MAX_OPTIONS] {
        [&self.option1, &self.option2, &self.option3, &self.option4, &self.option5, &self.option6]
    }

    /// The option fields numbered from 1, for the form.
    pub fn numbered_options(&self) -> Vec<(usize, String)> {
        self.options().iter().enumerate().map(|(i, value)| (i + 1, (*value).to_owned())).collect()
    }

    /// `Ok(None)` when no option was filled in (a post without a poll).
    pub fn parse(&self) -> Result<Option<NewPoll>, String> {
        let options: Vec<String> =
            self.options().iter().map(|o| o.trim().to_owned()).filter(|o| !o.is_empty()).collect();
        if options.is_empty() {
            return Ok(None);
        }
        if options.len() < 2 {
            return Err("A poll needs at least two options.".into());
        }
        if let Some(long) = options.iter().find(|o| o.chars().count() > MAX_LABEL_CHARS) {
            return Err(format!("An option has at most {MAX_LABEL_CHARS} characters: “{long}” is longer."));
        }
        if options.iter().any(|o| o.chars().any(char::is_control)) {
            return Err("An option contains characters that cannot be shown.".into());
        }
        let lower: Vec<String> = options.iter().map(|o| o.to_lowercase()).collect();
        if lower.iter().enumerate().any(|(i, o)| lower[..i].contains(o)) {
            return Err("Two options say the same thing.".into());
        }
        let hours = self.poll_hours.trim().parse::<i64>().ok().filter(|h| DURATIONS.iter().any(|(d, _)| d == h));
        let Some(hours) = hours else {
            return Err("Choose how long the poll stays open.".into());
        };
        Ok(Some(NewPoll { options, open_seconds: hours * 3600 }))
    }
}

/// A poll as one viewer sees it.
#[derive(Debug, Clone)]
pub struct PollView {
    pub options: Vec<OptionView>,
    pub closed: bool,
    /// "closes in 3 h", "closed".
    pub closing_label: String,
    /// The option the viewer chose, if any.
    pub my_choice: Option<i64>,
    pub total_votes: i64,
}

#[derive(Debug, Clone)]
pub struct OptionView {
    pub id: i64,
    pub label: String,
    pub votes: i64,
    /// Whole percent of all votes, for the result bar.
    pub percent: i64,
}

impl PollView {
    /// The viewer voted for this option.
    pub fn chose(&self, option_id: &i64) -> bool {
        self.my_choice == Some(*option_id)
    }

    /// Results are shown once the viewer voted or the poll closed, so early votes do not herd.
    pub fn shows_results(&self) -> bool {
        self.closed || self.my_choice.is_some()
    }
}

/// "closes in 5 min", "closes in 3 h", "closes in 2 days", "closed".
pub fn closing_label(closes_at: i64, now: i64) -> String {
    let left = closes_at - now;
    match left {
        i64::MIN..=0 => "closed".into(),
        1..=3599 => format!("closes in {} min", (left + 59) / 60),
        3600..=86_399 => format!("closes in {} h", left / 3600),
        86_400..=172_799 => "closes in 1 day".into(),
        _ => format!("closes in {} days", left / 86_400),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(options: &[&str], hours: &str) -> PollForm {
        let mut f = PollForm { poll_hours: hours.into(), ..PollForm::default() };
        let slots = [&mut f.option1, &mut f.option2, &mut f.option3, &mut f.option4, &mut f.option5, &mut f.option6];
        for (slot, value) in slots.into_iter().zip(options) {
            *slot = (*value).to_owned();
        }
        f
    }

    #[test]
    fn a_poll_has_two_to_six_distinct_options_and_a_known_duration() {
        assert_eq!(form(&[], "24").parse(), Ok(None));
        assert_eq!(
            form(&[" Tea ", "", "Coffee"], "24").parse(),
            Ok(Some(NewPoll { options: vec!["Tea".into(), "Coffee".into()], open_seconds: 86_400 }))
        );
        assert!(form(&["Tea"], "24").parse().is_err());
        assert!(form(&["Tea", "TEA"], "24").parse().is_err());
        assert!(form(&["Tea", "Coffee"], "5").parse().is_err());
        assert!(form(&["Tea", &"x".repeat(81)], "1").parse().is_err());
    }

    #[test]
    fn the_closing_time_reads_as_words() {
        assert_eq!(closing_label(100, 200), "closed");
        assert_eq!(closing_label(1000, 970), "closes in 1 min");
        assert_eq!(closing_label(7200 + 5, 0), "closes in 2 h");
        assert_eq!(closing_label(86_400, 0), "closes in 1 day");
        assert_eq!(closing_label(3 * 86_400, 0), "closes in 3 days");
    }
}
