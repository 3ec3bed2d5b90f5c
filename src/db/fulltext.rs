//! What someone typed into the search box, as words and quoted phrases, and its translation into each
//! engine's query language. Only letters and digits reach an engine: quotes, operators and symbols
//! people type (or FTS5 and tsquery syntax) are separators here, so no input can be a syntax error.

use super::Engine;

/// How many of the newest matches a search ranks by relevance (posts and ideas alike): ranking every
/// match of a common word in a large company costs a scan of all of them, while a word rare enough
/// to matter has fewer matches than that and is ranked over all of them.
pub const RANKED_AMONG: i64 = 1000;

/// Longest input read; the rest is ignored.
const MAX_INPUT_CHARS: usize = 500;
/// Most words and phrases used from one query.
const MAX_TERMS: usize = 8;
/// Longest word kept.
const MAX_WORD_CHARS: usize = 40;

/// Common English words that find everything and mean nothing on their own.
pub const STOP_WORDS: [&str; 36] = [
    "a", "an", "and", "are", "as", "at", "be", "but", "by", "for", "from", "if", "in", "into", "is", "it", "its", "no",
    "not", "of", "on", "or", "our", "so", "such", "that", "the", "their", "then", "there", "these", "they", "this",
    "to", "was", "with",
];

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Term {
    /// A word, matched by its stem (and, the last one typed, as a prefix: "packag" finds "packaging").
    Word(String),
    /// Words in this order, next to each other.
    Phrase(Vec<String>),
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Parsed {
    pub terms: Vec<Term>,
}

fn words(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(|w| w.chars().take(MAX_WORD_CHARS).collect::<String>().to_lowercase())
        .collect()
}

pub fn is_stop_word(word: &str) -> bool {
    STOP_WORDS.contains(&word)
}

impl Parsed {
    pub fn parse(input: &str) -> Parsed {
        let input: String = input.chars().take(MAX_INPUT_CHARS).collect();
        let mut terms = Vec::new();
        for (n, part) in input.split('"').enumerate() {
            // Odd parts were inside quotes (an unclosed quote runs to the end).
            if n % 2 == 1 {
                let phrase: Vec<String> = words(part);
                match phrase.len() {
                    0 => {}
                    1 => terms.push(Term::Word(phrase[0].clone())),
                    _ if phrase.iter().all(|w| is_stop_word(w)) => {}
                    _ => terms.push(Term::Phrase(phrase)),
                }
            } else {
                terms.extend(words(part).into_iter().filter(|w| !is_stop_word(w)).map(Term::Word));
            }
        }
        terms.dedup();
        terms.truncate(MAX_TERMS);
        Parsed { terms }
    }

    /// Only the words (phrases' words included) of at least `min_chars` characters.
    pub fn significant(&self, min_chars: usize) -> Parsed {
        let mut terms: Vec<Term> = self
            .all_words()
            .into_iter()
            .filter(|w| w.chars().count() >= min_chars)
            .map(|w| Term::Word(w.to_owned()))
            .collect();
        terms.dedup();
        Parsed { terms }
    }

    pub fn is_empty(&self) -> bool {
        self.terms.is_empty()
    }

    /// Every word, phrases' included, for highlighting.
    pub fn all_words(&self) -> Vec<&str> {
        let mut out = Vec::new();
        for term in &self.terms {
            match term {
                Term::Word(w) => out.push(w.as_str()),
                Term::Phrase(ws) => out.extend(ws.iter().map(String::as_str).filter(|w| !is_stop_word(w))),
            }
        }
        out
    }

    /// The engine's query: every term must match (`any` false) or at least one (`any` true). SQLite
    /// gets an FTS5 expression, PostgreSQL a `to_tsquery` text. Every word matches by its stem; the
    /// last one also as a prefix, as it may be half typed (a prefix on every word made a common word's
    /// search merge the lists of every word it begins: 3 times slower at the 95th percentile).
    pub fn expression(&self, engine: Engine, any: bool) -> String {
        let last = self.terms.len().saturating_sub(1);
        let parts: Vec<String> = self
            .terms
            .iter()
            .enumerate()
            .map(|(n, term)| {
                let prefix = n == last;
                match (engine, term) {
                    (Engine::Sqlite, Term::Word(w)) => format!("\"{w}\"{}", if prefix { "*" } else { "" }),
                    (Engine::Sqlite, Term::Phrase(ws)) => format!("\"{}\"", ws.join(" ")),
                    (Engine::Postgres, Term::Word(w)) => format!("{w}{}", if prefix { ":*" } else { "" }),
                    (Engine::Postgres, Term::Phrase(ws)) => format!("({})", ws.join(" <-> ")),
                }
            })
            .collect();
        let joiner = match (engine, any) {
            (Engine::Sqlite, false) => " AND ",
            (Engine::Sqlite, true) => " OR ",
            (Engine::Postgres, false) => " & ",
            (Engine::Postgres, true) => " | ",
        };
        parts.join(joiner)
    }
}

/// The English Snowball stem of each word of `text` (stop words left out), space-separated: what an
/// outside engine without stemming (Meilisearch) indexes beside the text, so that "packages" and
/// "packaging" find each other there as they do in the built-in engines.
pub fn stems(text: &str) -> String {
    let stemmer = rust_stemmers::Stemmer::create(rust_stemmers::Algorithm::English);
    words(text).iter().filter(|w| !is_stop_word(w)).map(|w| stemmer.stem(w).into_owned()).collect::<Vec<_>>().join(" ")
}

impl Parsed {
    /// The query for an engine that searches [`stems`]: every word by its stem, phrases in quotes. The
    /// engine is asked to match every term and to complete only the last word as a prefix, as the
    /// built-in engines do.
    pub fn stemmed(&self) -> String {
        let stemmer = rust_stemmers::Stemmer::create(rust_stemmers::Algorithm::English);
        let stem = |w: &str| stemmer.stem(w).into_owned();
        self.terms
            .iter()
            .map(|term| match term {
                // The last word is completed as a prefix of stems: a stem starts the words it comes
                // from, so "packag" and "packaging" both find "packag".
                Term::Word(w) => stem(w),
                Term::Phrase(ws) => {
                    format!(
                        "\"{}\"",
                        ws.iter().filter(|w| !is_stop_word(w)).map(|w| stem(w)).collect::<Vec<_>>().join(" ")
                    )
                }
            })
            .collect::<Vec<_>>()
            .join(" ")
    }
}

/// A piece of text, marked when it matched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Piece {
    pub text: String,
    pub hit: bool,
}

/// A word's stem as the highlighter guesses it: common English endings off, so "packaging" marks
/// "packages" and "package" too. (The engines stem properly; this only decides what to mark.)
fn rough_stem(word: &str) -> &str {
    for suffix in ["ings", "ing", "ies", "ied", "es", "ed", "s", "e", "y"] {
        if let Some(stem) = word.strip_suffix(suffix)
            && stem.chars().count() >= 3
        {
            return stem;
        }
    }
    word
}

/// Up to `max` characters of `text` around the first match, cut at word boundaries, with the
/// matching words marked. The marks are data: templates escape every piece and add `<mark>` only.
pub fn highlight(text: &str, words: &[&str], max: usize) -> Vec<Piece> {
    let stems: Vec<String> = words.iter().map(|w| rough_stem(w).to_owned()).filter(|s| !s.is_empty()).collect();
    let is_hit = |word: &str| {
        let lower = word.to_lowercase();
        stems.iter().any(|s| lower.starts_with(s.as_str()))
    };
    // Split into runs of word and non-word characters.
    let mut runs: Vec<(String, bool)> = Vec::new();
    for c in text.chars() {
        let word_char = c.is_alphanumeric();
        match runs.last_mut() {
            Some((run, is_word)) if *is_word == word_char => run.push(c),
            _ => runs.push((c.to_string(), word_char)),
        }
    }
    let first_hit = runs.iter().position(|(run, is_word)| *is_word && is_hit(run)).unwrap_or(0);
    // Start a little before the first hit, so it reads in context.
    let mut start = first_hit;
    let mut before = 0;
    while start > 0 && before + runs[start - 1].0.chars().count() <= max / 4 {
        start -= 1;
        before += runs[start].0.chars().count();
    }
    let mut pieces: Vec<Piece> = Vec::new();
    if start > 0 {
        pieces.push(Piece { text: "…".into(), hit: false });
    }
    let mut used = 0;
    let mut cut = false;
    for (run, is_word) in &runs[start..] {
        let len = run.chars().count();
        if used + len > max {
            cut = true;
            break;
        }
        used += len;
        let hit = *is_word && is_hit(run);
        match pieces.last_mut() {
            Some(last) if !last.hit && !hit => last.text.push_str(run),
            _ => pieces.push(Piece { text: run.clone(), hit }),
        }
    }
    if cut {
        pieces.push(Piece { text: "…".into(), hit: false });
    }
    pieces
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_outside_engine_gets_stems_of_the_text_and_of_the_query_alike() {
        assert_eq!(stems("Packaging the packages, packaged!"), "packag packag packag");
        let q = Parsed::parse(r#"reducing "the cutting waste" packages"#);
        assert_eq!(q.stemmed(), r#"reduc "cut wast" packag"#);
        // A stem starts the word it comes from, so the last word still completes as a prefix.
        assert!("packaging".starts_with(&Parsed::parse("packaging").stemmed()));
    }

    #[test]
    fn words_phrases_and_stop_words() {
        let q = Parsed::parse(r#"The packaging "cut waste" of OR* (boxes)"#);
        assert_eq!(
            q.terms,
            vec![
                Term::Word("packaging".into()),
                Term::Phrase(vec!["cut".into(), "waste".into()]),
                Term::Word("boxes".into()),
            ]
        );
        assert_eq!(q.expression(Engine::Sqlite, false), r#""packaging" AND "cut waste" AND "boxes"*"#);
        assert_eq!(q.expression(Engine::Postgres, false), "packaging & (cut <-> waste) & boxes:*");
        assert_eq!(q.expression(Engine::Postgres, true), "packaging | (cut <-> waste) | boxes:*");
    }

    #[test]
    fn symbols_quotes_and_stop_words_alone_leave_nothing_to_search() {
        for input in ["", "   ", "the of and", "\"\"", "*:() & | <-> (\"", "🎉🎉", "\"the a\""] {
            assert!(Parsed::parse(input).is_empty(), "{input}");
        }
        let q = Parsed::parse("naïve café 日本 🎉 x");
        assert_eq!(q.all_words(), vec!["naïve", "café", "日本", "x"]);
        assert_eq!(Parsed::parse(&"word ".repeat(1000)).terms.len(), 1);
        assert!(Parsed::parse(&"a".repeat(10_000)).all_words()[0].chars().count() <= 40);
    }

    #[test]
    fn highlights_mark_stems_and_cut_around_the_first_hit() {
        let pieces = highlight("We should cut Packaging waste; packages pile up.", &["packaging"], 200);
        let marked: Vec<&str> = pieces.iter().filter(|p| p.hit).map(|p| p.text.as_str()).collect();
        assert_eq!(marked, vec!["Packaging", "packages"]);
        let long = format!("{} needle {}", "hay ".repeat(200), "hay ".repeat(200));
        let pieces = highlight(&long, &["needle"], 80);
        assert!(pieces.first().unwrap().text.starts_with('…'));
        assert!(pieces.last().unwrap().text.ends_with('…'));
        assert!(pieces.iter().any(|p| p.hit && p.text == "needle"));
        let total: usize = pieces.iter().map(|p| p.text.chars().count()).sum();
        assert!(total <= 82);
    }
}
