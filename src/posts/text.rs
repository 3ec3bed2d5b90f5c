//! Reading a post's plain text: links, `@mentions` and `#topics` become links, everything else stays
//! text. The result is data for the template, which escapes every piece; no HTML is built here.

/// One run of a post's text. `href` is empty for plain text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Segment {
    pub text: String,
    pub href: String,
    /// "text", "link", "mention" or "topic": the CSS class of the run.
    pub kind: &'static str,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Token<'a> {
    Text(&'a str),
    Link(&'a str),
    /// The name without `@`, lower-cased by the caller.
    Mention(&'a str),
    /// The name without `#`.
    Topic(&'a str),
}

const MAX_TOPIC_CHARS: usize = 50;

fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

fn is_topic_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// Splits the text into runs. A marker counts only at the start or after a character that cannot be
/// part of a word, so `ana@example.com` and `C#` stay text.
fn tokens(text: &str) -> Vec<Token<'_>> {
    let mut out = Vec::new();
    let mut plain_start = 0;
    let mut i = 0;
    let mut previous: Option<char> = None;
    while i < text.len() {
        let rest = &text[i..];
        let at_word_start = previous.is_none_or(|p| !p.is_alphanumeric() && p != '_' && p != '/');
        let found = if at_word_start { marker_at(rest) } else { None };
        if let Some((token, len)) = found {
            if plain_start < i {
                out.push(Token::Text(&text[plain_start..i]));
            }
            out.push(token);
            i += len;
            plain_start = i;
            previous = text[..i].chars().next_back();
            continue;
        }
        let c = rest.chars().next().unwrap_or(' ');
        previous = Some(c);
        i += c.len_utf8();
    }
    if plain_start < text.len() {
        out.push(Token::Text(&text[plain_start..]));
    }
    out
}

/// A link, mention or topic starting at the beginning of `rest`, with its length in bytes.
fn marker_at(rest: &str) -> Option<(Token<'_>, usize)> {
    if rest.starts_with("https://") || rest.starts_with("http://") {
        let len = link_len(rest);
        let scheme_len = if rest.starts_with("https://") { 8 } else { 7 };
        return (len > scheme_len).then(|| (Token::Link(&rest[..len]), len));
    }
    if let Some(name) = rest.strip_prefix('@') {
        let len = name.find(|c: char| !is_name_char(c)).unwrap_or(name.len());
        let next_ok = !name[len..].starts_with('@');
        return ((2..=30).contains(&len) && next_ok).then(|| (Token::Mention(&name[..len]), len + 1));
    }
    if let Some(name) = rest.strip_prefix('#') {
        let len = name.find(|c: char| !is_topic_char(c)).unwrap_or(name.len());
        let topic = &name[..len];
        let chars = topic.chars().count();
        let has_letter = topic.chars().any(|c| !c.is_ascii_digit());
        return ((1..=MAX_TOPIC_CHARS).contains(&chars) && has_letter).then(|| (Token::Topic(topic), len + 1));
    }
    None
}

/// How far a link runs: to white space or a character that cannot stand in a URL, less trailing
/// punctuation that belongs to the sentence (a closing bracket stays when the link opened one).
/// The brackets are counted once, so a link ending in thousands of them costs no more than its
/// length (counting them again for each one stripped made a 10,000-character post take seconds).
fn link_len(rest: &str) -> usize {
    let mut len = rest.find(|c: char| c.is_whitespace() || matches!(c, '<' | '>' | '"' | '`')).unwrap_or(rest.len());
    let link = &rest[..len];
    let count = |c: char| link.chars().filter(|&x| x == c).count();
    let (opened_round, opened_square) = (count('('), count('['));
    let (mut closed_round, mut closed_square) = (count(')'), count(']'));
    while let Some(last) = rest[..len].chars().next_back() {
        let strip = match last {
            '.' | ',' | ';' | ':' | '!' | '?' | '\'' | '*' => true,
            ')' => opened_round < closed_round,
            ']' => opened_square < closed_square,
            _ => false,
        };
        if !strip {
            break;
        }
        match last {
            ')' => closed_round -= 1,
            ']' => closed_square -= 1,
            _ => {}
        }
        len -= last.len_utf8();
    }
    len
}

/// Lower-cased usernames mentioned in the text, each once, in order.
pub fn mentions(text: &str) -> Vec<String> {
    unique(tokens(text).into_iter().filter_map(|t| match t {
        Token::Mention(name) => Some(name.to_ascii_lowercase()),
        _ => None,
    }))
}

/// Lower-cased topics in the text, each once, in order.
pub fn topics(text: &str) -> Vec<String> {
    unique(tokens(text).into_iter().filter_map(|t| match t {
        Token::Topic(name) => Some(name.to_lowercase()),
        _ => None,
    }))
}

fn unique(names: impl Iterator<Item = String>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for name in names {
        if !out.contains(&name) {
            out.push(name);
        }
    }
    out
}

/// The runs to show. A mention becomes a link only when `known` holds that username (people who
/// existed when the post was written); otherwise it stays text.
pub fn segments(text: &str, known: &[&str]) -> Vec<Segment> {
    let mut out: Vec<Segment> = Vec::new();
    let push_text = |out: &mut Vec<Segment>, t: &str| match out.last_mut() {
        Some(last) if last.kind == "text" => last.text.push_str(t),
        _ => out.push(Segment { text: t.to_owned(), href: String::new(), kind: "text" }),
    };
    for token in tokens(text) {
        match token {
            Token::Text(t) => push_text(&mut out, t),
            Token::Link(url) => out.push(Segment { text: url.to_owned(), href: url.to_owned(), kind: "link" }),
            Token::Mention(name) => {
                let lower = name.to_ascii_lowercase();
                if known.contains(&lower.as_str()) {
                    out.push(Segment { text: format!("@{name}"), href: format!("/@{lower}"), kind: "mention" });
                } else {
                    push_text(&mut out, &format!("@{name}"));
                }
            }
            Token::Topic(name) => out.push(Segment {
                text: format!("#{name}"),
                href: format!("/topics/{}", crate::web::form::percent_encode(&name.to_lowercase())),
                kind: "topic",
            }),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(text: &str) -> Vec<(&'static str, String)> {
        segments(text, &["ana", "bo"]).into_iter().map(|s| (s.kind, s.text)).collect()
    }

    #[test]
    fn links_mentions_and_topics_are_found_in_running_text() {
        assert_eq!(
            kinds("Hi @Ana, see https://example.com/a_(b). #Packaging!"),
            vec![
                ("text", "Hi ".into()),
                ("mention", "@Ana".into()),
                ("text", ", see ".into()),
                ("link", "https://example.com/a_(b)".into()),
                ("text", ". ".into()),
                ("topic", "#Packaging".into()),
                ("text", "!".into()),
            ]
        );
    }

    #[test]
    fn markers_inside_words_and_unknown_people_stay_text() {
        assert_eq!(
            kinds("mail ana@example.com about C# or @nobody"),
            vec![("text", "mail ana@example.com about C# or @nobody".into())]
        );
        assert_eq!(
            kinds("#2024 is a number, (https://x.org)."),
            vec![("text", "#2024 is a number, (".into()), ("link", "https://x.org".into()), ("text", ").".into()),]
        );
        assert_eq!(kinds("https:// alone"), vec![("text", "https:// alone".into())]);
    }

    #[test]
    fn markup_is_kept_as_text_for_the_template_to_escape() {
        let s = segments("<script>alert(1)</script> \"https://a.b/<x>\"", &[]);
        assert_eq!(s[0].text, "<script>alert(1)</script> \"");
        assert_eq!(s[1].href, "https://a.b/");
        assert!(segments("javascript:alert(1)", &[]).iter().all(|s| s.href.is_empty()));
    }

    #[test]
    fn a_link_trailed_by_thousands_of_brackets_is_read_in_one_pass() {
        let text = format!("see https://x.org/a_(b){}{}", ")".repeat(4_000), "].".repeat(3_000));
        let started = std::time::Instant::now();
        for _ in 0..30 {
            let runs = segments(&text, &[]);
            assert_eq!(runs[1].href, "https://x.org/a_(b)");
            assert_eq!(runs.iter().map(|s| s.text.len()).sum::<usize>(), text.len());
        }
        // Thirty such posts are one page of a feed: quadratic scanning took seconds each here.
        assert!(started.elapsed() < std::time::Duration::from_secs(2), "took {:?}", started.elapsed());
    }

    #[test]
    fn mentions_and_topics_are_collected_once_in_lower_case() {
        assert_eq!(mentions("@Ana @ana @bo_1 @x"), vec!["ana", "bo_1"]);
        assert_eq!(topics("#Café #café #Ideas2025"), vec!["café", "ideas2025"]);
    }

    #[test]
    fn any_text_splits_into_runs_that_join_back_to_it() {
        for text in ["", "@", "#", "@@ab", "http://", "é#é @é https://é.fr/é?x=(1", "a\u{0}b #\u{200d}x"] {
            let joined: String = segments(text, &["ab"]).into_iter().map(|s| s.text).collect();
            assert_eq!(joined, text);
        }
    }
}
