//! SQL text and its values: [`sql`] for a statement written in the source, the list and bulk-insert
//! helpers, and the pieces that compose one statement from several (each carrying its own values).

use std::borrow::Cow;

use sqlx::{AssertSqlSafe, SqlSafeStr, SqlStr};

/// One value bound to a placeholder.
#[derive(Clone, Debug)]
pub enum Arg {
    Int(i64),
    Text(String),
    Bool(bool),
    NullText,
    NullInt,
}

/// PostgreSQL text cannot hold NUL. Every write path refuses control characters first, so a NUL can
/// only arrive in a lookup from hostile input: it becomes U+FFFD, which finds nothing, on both engines.
fn text_arg(v: String) -> Arg {
    if v.contains('\0') { Arg::Text(v.replace('\0', "\u{FFFD}")) } else { Arg::Text(v) }
}

impl From<i64> for Arg {
    fn from(v: i64) -> Self {
        Arg::Int(v)
    }
}
impl From<bool> for Arg {
    fn from(v: bool) -> Self {
        Arg::Bool(v)
    }
}
impl From<String> for Arg {
    fn from(v: String) -> Self {
        text_arg(v)
    }
}
impl From<&str> for Arg {
    fn from(v: &str) -> Self {
        text_arg(v.to_owned())
    }
}
impl From<&String> for Arg {
    fn from(v: &String) -> Self {
        text_arg(v.clone())
    }
}
impl From<Option<i64>> for Arg {
    fn from(v: Option<i64>) -> Self {
        v.map_or(Arg::NullInt, Arg::Int)
    }
}
impl From<Option<String>> for Arg {
    fn from(v: Option<String>) -> Self {
        v.map_or(Arg::NullText, text_arg)
    }
}

/// What a piece of SQL compares with: a value (bound as a placeholder), or a column of the query the
/// piece is put into, such as `s.user_id` in a correlated subquery.
#[derive(Clone, Debug)]
pub enum Operand {
    Value(Arg),
    Column(&'static str),
}

impl<T: Into<Arg>> From<T> for Operand {
    fn from(value: T) -> Self {
        Operand::Value(value.into())
    }
}

/// SQL text with its bound values. Build with [`sql`] or [`sql_in`] and [`Query::bind`].
#[derive(Clone, Debug)]
pub struct Query {
    pub(super) text: Cow<'static, str>,
    pub(super) args: Vec<Arg>,
    /// Prepared once per connection and reused (false: see [`Query::planned_per_call`]).
    pub(super) reused: bool,
    /// What [`Query::bind_list`] binds to the placeholders [`list_size`] adds.
    padding: Padding,
}

/// What fills the placeholders a list gets beyond its values (see [`list_size`]).
#[derive(Clone, Copy, Debug, PartialEq)]
enum Padding {
    /// NULL: a `UNION ALL` copy of [`sql_union_all`] reading `= NULL` finds no row.
    Null,
    /// The list's last value again: `IN (…)` means the same, and PostgreSQL, which plans a prepared
    /// statement with its values on its first calls and then compares that cost with a plan for
    /// any values, sees as many values as the plan for any values assumes. With NULLs the first
    /// plans looked cheaper, so it never settled and planned the search's rows on every call
    /// (0.50 ms planning against 0.13 ms running).
    Repeat,
}

/// The largest `n` of the `$n` in `text` (0 when there is none).
fn highest_placeholder(text: &str) -> usize {
    text.split('$')
        .skip(1)
        .filter_map(|after| after.split(|c: char| !c.is_ascii_digit()).next()?.parse().ok())
        .max()
        .unwrap_or(0)
}

/// Starts a query from SQL written in the source (never from input: values go through `bind`).
pub fn sql(text: &'static str) -> Query {
    Query::new(Cow::Borrowed(text), Vec::new())
}

/// Makes `%`, `_` and `\` in typed text match themselves in a LIKE pattern.
pub fn escape_like(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// How many placeholders a list of `n` values gets: one of a few sizes (1, 2, 4, 8, then multiples
/// of 8) rather than `n` itself, the rest filled by [`Query::bind_list`]. Each distinct text
/// is a statement that every connection prepares, and PostgreSQL plans it with its values on each of
/// its first five calls before settling on one plan: with a text per length, a new connection spent
/// seconds planning feeds' reply previews before its pages ran at full speed (docs/benchmarks.md).
pub fn list_size(n: usize) -> usize {
    match n {
        0..=2 => n,
        3..=4 => 4,
        5..=8 => 8,
        _ => n.next_multiple_of(8),
    }
}

/// Like [`sql`], with `{list}` in the text replaced by placeholders for `count` values numbered from
/// `first` (`$2, $3, $4, $5`), for `IN ({list})`; bind the values with [`Query::bind_list`] after
/// any placeholders before `first`. With no values the list is `NULL`, which matches nothing. Only
/// placeholders are ever put into the text.
pub fn sql_in(template: &'static str, first: usize, count: usize) -> Query {
    let count = list_size(count);
    let list = if count == 0 {
        "NULL".to_owned()
    } else {
        (first..first + count).map(|n| format!("${n}")).collect::<Vec<_>>().join(", ")
    };
    Query { padding: Padding::Repeat, ..Query::new(Cow::Owned(template.replace("{list}", &list)), Vec::new()) }
}

pub(super) fn sql_text(text: Cow<'static, str>) -> SqlText {
    match text {
        Cow::Borrowed(text) => SqlText::Static(text),
        Cow::Owned(text) => SqlText::Built(AssertSqlSafe(text)),
    }
}

/// The two kinds of SQL text sqlx accepts: written in the source, or built from placeholders.
pub(super) enum SqlText {
    Static(&'static str),
    Built(AssertSqlSafe<String>),
}

impl SqlSafeStr for SqlText {
    fn into_sql_str(self) -> SqlStr {
        match self {
            SqlText::Static(text) => text.into_sql_str(),
            SqlText::Built(text) => text.into_sql_str(),
        }
    }
}

/// `head (…) tail` around one `UNION ALL` of copies of `each` for `count` values, whose `{n}` becomes
/// `$first`, `$first + 1`, …, as derived tables (so each copy may have its own `ORDER BY … LIMIT`);
/// `tail` starts with the union's alias. For "the newest few of each of these", reading only those
/// rows through an index. Bind the values with [`Query::bind_list`]: the copies that [`list_size`]
/// adds get NULL, and `= NULL` finds no row. Only placeholders are ever put into the text.
pub fn sql_union_all(head: &'static str, each: &'static str, first: usize, count: usize, tail: &'static str) -> Query {
    let parts: Vec<String> = (first..first + list_size(count))
        .map(|n| format!("SELECT * FROM ({}) part{n}", each.replace("{n}", &format!("${n}"))))
        .collect();
    Query::new(Cow::Owned(format!("{head} ({}) {tail}", parts.join(" UNION ALL "))), Vec::new())
}

/// A multi-row `INSERT`: `head` (such as `INSERT INTO follows (follower_id, followee_id)`) followed
/// by `VALUES` with one `($n, …)` group of `width` placeholders per row of `args`, for bulk loads.
/// Only placeholders are ever put into the text.
pub fn sql_values(head: &'static str, width: usize, args: Vec<Arg>) -> Query {
    let rows = args.len() / width.max(1);
    let mut text = String::with_capacity(head.len() + rows * width * 6 + 8);
    text.push_str(head);
    text.push_str(" VALUES ");
    let mut n = 1;
    for row in 0..rows {
        text.push_str(if row == 0 { "(" } else { ", (" });
        for column in 0..width {
            if column > 0 {
                text.push_str(", ");
            }
            text.push('$');
            text.push_str(&n.to_string());
            n += 1;
        }
        text.push(')');
    }
    Query::new(Cow::Owned(text), args)
}

impl Query {
    /// A statement kept prepared and reused (the default; see [`Query::planned_per_call`]).
    pub(super) fn new(text: Cow<'static, str>, args: Vec<Arg>) -> Query {
        Query { text, args, reused: true, padding: Padding::Null }
    }

    /// The same query behind a prefix such as `EXPLAIN QUERY PLAN `, to see how the database runs it.
    pub fn explained(self, prefix: &'static str) -> Query {
        Query { text: Cow::Owned(format!("{prefix}{}", self.text)), ..self }
    }

    /// On PostgreSQL, plans the statement with its actual values on every call instead of keeping
    /// one prepared plan for any values, as every other statement does ([`super::postgres`]). For
    /// a query whose filters are optional (`$3 = '' OR u.username = $3`) a plan for any values is
    /// chosen blind, and for search it was a nested loop thousands of times slower than the plan
    /// made per call (docs/benchmarks.md). SQLite plans alike either way, so this changes nothing there.
    pub fn planned_per_call(mut self) -> Self {
        self.reused = false;
        self
    }

    pub fn bind(mut self, value: impl Into<Arg>) -> Self {
        self.args.push(value.into());
        self
    }

    /// Appends SQL written in the source. Together with [`Query::value`] and [`Query::and`] a
    /// statement is composed from pieces, each placing its own values: nothing relies on a value
    /// being bound to a `$n` written elsewhere.
    pub fn push(mut self, text: &'static str) -> Self {
        self.text.to_mut().push_str(text);
        self
    }

    /// Appends ` LIMIT n` with the number written into the text, not bound. A prepared statement
    /// keeps PostgreSQL's plan for any values only while that plan costs no more than the ones made
    /// with the values, and a plan for any values assumes a bound `LIMIT` reads a tenth of the rows:
    /// `/all` was planned again on every call (0.78 ms planning against 0.21 ms running). For page
    /// sizes and caps, which are a few constants, so that the texts stay few.
    pub fn limit(self, n: i64) -> Self {
        self.number(" LIMIT ", n)
    }

    /// Appends ` OFFSET n` with the number written into the text, as [`Query::limit`] does.
    pub fn offset(self, n: i64) -> Self {
        self.number(" OFFSET ", n)
    }

    fn number(mut self, keyword: &'static str, n: i64) -> Self {
        let text = self.text.to_mut();
        text.push_str(keyword);
        text.push_str(&n.max(0).to_string());
        self
    }

    /// Appends a placeholder for `value`, numbered after the values bound so far.
    pub fn value(mut self, value: impl Into<Arg>) -> Self {
        self.assert_bound();
        let n = self.args.len() + 1;
        let text = self.text.to_mut();
        text.push('$');
        text.push_str(&n.to_string());
        self.args.push(value.into());
        self
    }

    /// Appends `piece`, a query of its own (its placeholders numbered from `$1`, its values bound),
    /// renumbering its placeholders to follow this query's values.
    pub fn and(mut self, piece: Query) -> Self {
        self.assert_bound();
        piece.assert_bound();
        let shift = self.args.len();
        let text = self.text.to_mut();
        let mut rest: &str = &piece.text;
        while let Some(at) = rest.find('$') {
            text.push_str(&rest[..=at]);
            rest = &rest[at + 1..];
            let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
            match rest[..digits].parse::<usize>() {
                Ok(n) => text.push_str(&(n + shift).to_string()),
                Err(_) => text.push_str(&rest[..digits]),
            }
            rest = &rest[digits..];
        }
        text.push_str(rest);
        self.args.extend(piece.args);
        self.reused &= piece.reused;
        self
    }

    /// Appends placeholders for `values` (`$4, $5, $6, $7`), for `IN (…)`, padded with NULL to one
    /// of a few lengths as [`sql_in`] does; with no values, `NULL`, which matches nothing.
    pub fn list<T: Clone + Into<Arg>>(mut self, values: &[T]) -> Self {
        self.assert_bound();
        let first = self.args.len() + 1;
        let count = list_size(values.len());
        let text = self.text.to_mut();
        if count == 0 {
            text.push_str("NULL");
        }
        for n in first..first + count {
            if n > first {
                text.push_str(", ");
            }
            text.push('$');
            text.push_str(&n.to_string());
        }
        self.bind_padded(values, Padding::Repeat)
    }

    /// Appends `operand`: a placeholder for a value, or the column of an outer query it names.
    pub fn operand(self, operand: &Operand) -> Self {
        match operand {
            Operand::Value(value) => self.value(value.clone()),
            Operand::Column(column) => self.push(column),
        }
    }

    /// Every `$n` in the text has its value: a piece appended after a placeholder still to be bound
    /// would take its number.
    fn assert_bound(&self) {
        debug_assert!(
            highest_placeholder(&self.text) <= self.args.len(),
            "a placeholder of `{}` has no value yet",
            self.text
        );
    }

    /// Binds the values of a list made by [`sql_in`] or [`sql_union_all`] for `values.len()` of
    /// them, then fills each placeholder [`list_size`] added: with the last value again for
    /// `sql_in`'s `IN (…)`, with NULL for `sql_union_all`'s copies (`x = NULL` finds no row).
    pub fn bind_list<T: Clone + Into<Arg>>(self, values: &[T]) -> Self {
        let padding = self.padding;
        self.bind_padded(values, padding)
    }

    fn bind_padded<T: Clone + Into<Arg>>(mut self, values: &[T], padding: Padding) -> Self {
        let mut null = Arg::NullInt;
        for value in values {
            let arg = value.clone().into();
            if matches!(arg, Arg::Text(_) | Arg::NullText) {
                null = Arg::NullText;
            }
            self.args.push(arg);
        }
        let fill = match (padding, self.args.last()) {
            (Padding::Repeat, Some(last)) if !values.is_empty() => last.clone(),
            _ => null,
        };
        for _ in values.len()..list_size(values.len()) {
            self.args.push(fill.clone());
        }
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_of_any_length_up_to_a_feed_page_share_a_few_statements() {
        // A home page's likes ask about up to 90 posts (30, and two replies of each).
        let texts: std::collections::HashSet<String> = (1..=90)
            .map(|n| sql_in("SELECT post_id FROM likes WHERE post_id IN ({list})", 1, n).text.into_owned())
            .collect();
        assert!(texts.len() <= 15, "{} statements for 90 lengths", texts.len());
        for n in 0..=200 {
            let values: Vec<i64> = (1..=n as i64).collect();
            let query = sql_in("SELECT 1 WHERE 1 IN ({list})", 1, n).bind_list(&values);
            assert_eq!(query.args.len(), list_size(n));
            assert!(query.text.contains(&format!("${}", list_size(n))) || n == 0);
            assert!(!query.text.contains(&format!("${}", list_size(n) + 1)));
            // `IN` is padded with its last value, which means the same and costs the same to plan.
            assert!(query.args[n..].iter().all(|a| matches!(a, Arg::Int(v) if *v == n as i64)));
            // A union's copies are padded with NULL, which reads no row (a repeat would read twice).
            let union = sql_union_all("SELECT * FROM", "SELECT {n} AS v", 1, n, "u").bind_list(&values);
            assert!(union.args[n..].iter().all(|a| matches!(a, Arg::NullInt)));
        }
        let names = sql_in("SELECT 1 WHERE 'a' IN ({list})", 1, 3).bind_list(&["a", "b", "c"]);
        assert!(matches!(&names.args[3], Arg::Text(t) if t == "c"), "text lists are padded with their last text");
        let inline = sql("SELECT 1 WHERE 1 IN (").list(&[4_i64, 5, 6]).push(")");
        assert!(matches!(inline.args[3], Arg::Int(6)));
    }

    #[test]
    fn pieces_carry_their_own_values_and_are_renumbered() {
        let visible = |viewer: i64| sql("(x.owner = $1 OR x.shared_with = $1)").bind(viewer);
        let query = sql("SELECT 1 FROM x WHERE x.id = $1 AND x.kind = $2 AND ")
            .bind(7)
            .bind("note")
            .and(visible(42))
            .push(" LIMIT ")
            .value(30);
        assert_eq!(
            query.text,
            "SELECT 1 FROM x WHERE x.id = $1 AND x.kind = $2 AND (x.owner = $3 OR x.shared_with = $3) LIMIT $4"
        );
        assert!(matches!(query.args.as_slice(), [Arg::Int(7), Arg::Text(_), Arg::Int(42), Arg::Int(30)]));
        assert_eq!(highest_placeholder("a = $12 AND b = $3"), 12);
    }

    #[test]
    #[should_panic(expected = "has no value yet")]
    fn a_piece_after_an_unbound_placeholder_is_refused() {
        let _ = sql("SELECT 1 WHERE a = $1 AND ").and(sql("b = $1").bind(2));
    }
}
