//! The keyword watch list: plain words or regular expressions, matched case-insensitively against
//! new and edited text. A match flags the text into the moderation queue (a report with reason
//! "keyword"); it never blocks it. Posts and ideas check their text here; moderation keeps the rules
//! and works the queue.
//!
//! Rules compile with the `regex` crate, whose automata run in time linear in the text (no
//! backtracking), under a size limit, so no rule can stall the server.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use regex::{Regex, RegexBuilder};

use crate::db::{Db, Exec, now, sql};

/// What can be reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ObjectKind {
    /// A post or a reply.
    Post,
    Idea,
    /// A comment on an idea.
    Comment,
}

impl ObjectKind {
    pub fn parse(value: &str) -> Option<ObjectKind> {
        match value {
            "post" => Some(ObjectKind::Post),
            "idea" => Some(ObjectKind::Idea),
            "comment" => Some(ObjectKind::Comment),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            ObjectKind::Post => "post",
            ObjectKind::Idea => "idea",
            ObjectKind::Comment => "comment",
        }
    }

    pub fn noun(self) -> &'static str {
        match self {
            ObjectKind::Post => "post",
            ObjectKind::Idea => "idea",
            ObjectKind::Comment => "comment",
        }
    }
}

/// Longest pattern accepted.
pub const MAX_PATTERN_CHARS: usize = 200;
/// Memory a compiled rule may use.
const SIZE_LIMIT: usize = 1 << 20;

/// Compiles a rule: a plain word or phrase matches as whole words; a regular expression as written.
/// The error is the parser's own message.
pub fn compile(pattern: &str, is_regex: bool) -> Result<Regex, String> {
    let pattern = pattern.trim();
    if pattern.is_empty() {
        return Err("Enter a word or a regular expression.".into());
    }
    if pattern.chars().count() > MAX_PATTERN_CHARS {
        return Err(format!("A rule has at most {MAX_PATTERN_CHARS} characters."));
    }
    let source = if is_regex {
        pattern.to_owned()
    } else {
        let word = |c: Option<char>| c.is_some_and(|c| c.is_alphanumeric() || c == '_');
        let start = if word(pattern.chars().next()) { r"\b" } else { "" };
        let end = if word(pattern.chars().last()) { r"\b" } else { "" };
        format!("{start}{}{end}", regex::escape(pattern))
    };
    RegexBuilder::new(&source).case_insensitive(true).size_limit(SIZE_LIMIT).dfa_size_limit(SIZE_LIMIT).build().map_err(
        |e| match e {
            regex::Error::CompiledTooBig(_) => "This expression is too large to run safely. Make it simpler.".into(),
            other => other.to_string(),
        },
    )
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Rule {
    pub id: i64,
    pub pattern: String,
    pub is_regex: bool,
    pub created_at: i64,
    pub creator: Option<String>,
}

pub async fn rules(db: &mut impl Exec) -> Result<Vec<Rule>, sqlx::Error> {
    db.fetch_all(sql("SELECT r.id, r.pattern, r.is_regex, r.created_at, u.username AS creator
                      FROM keyword_rules r LEFT JOIN users u ON u.id = r.created_by ORDER BY r.id"))
        .await
}

pub async fn add_rule(db: &mut impl Exec, pattern: &str, is_regex: bool, actor_id: i64) -> Result<i64, sqlx::Error> {
    let (id,): (i64,) = db
        .fetch_one(
            sql("INSERT INTO keyword_rules (pattern, is_regex, created_by, created_at) VALUES ($1, $2, $3, $4)
                 RETURNING id")
            .bind(pattern.trim())
            .bind(is_regex)
            .bind(actor_id)
            .bind(now()),
        )
        .await?;
    Ok(id)
}

/// Removes a rule; false when there was none.
pub async fn remove_rule(db: &mut impl Exec, id: i64) -> Result<bool, sqlx::Error> {
    Ok(db.execute(sql("DELETE FROM keyword_rules WHERE id = $1").bind(id)).await? == 1)
}

/// Compiled rules, kept per process and compiled once each (rules are few and change rarely; the
/// list itself is read on each check, so a rule added in another process applies at once).
#[derive(Clone, Default)]
pub struct Watch {
    compiled: Arc<Mutex<HashMap<i64, Option<Regex>>>>,
}

impl Watch {
    /// The rules `text` matches: (id, pattern).
    pub async fn matches(&self, db: &mut impl Exec, text: &str) -> Result<Vec<(i64, String)>, sqlx::Error> {
        let rules = rules(db).await?;
        if rules.is_empty() {
            return Ok(Vec::new());
        }
        let Ok(mut compiled) = self.compiled.lock() else {
            return Ok(Vec::new());
        };
        compiled.retain(|id, _| rules.iter().any(|r| r.id == *id));
        let mut found = Vec::new();
        for rule in rules {
            // A stored rule was valid when saved; one that no longer compiles is skipped, not fatal.
            let regex = compiled.entry(rule.id).or_insert_with(|| compile(&rule.pattern, rule.is_regex).ok());
            if regex.as_ref().is_some_and(|r| r.is_match(text)) {
                found.push((rule.id, rule.pattern));
            }
        }
        Ok(found)
    }

    /// Flags `text` (a new or edited post, idea or comment) into the queue for each rule it matches,
    /// once per rule while a flag is open. A failure is logged: the text itself is already saved.
    pub async fn check(&self, db: &Db, kind: ObjectKind, object_id: i64, author_id: i64, text: &str) {
        if let Err(e) = self.flag(db, kind, object_id, author_id, text).await {
            tracing::warn!(error = %e, kind = kind.as_str(), object_id, "keyword watch did not run");
        }
    }

    async fn flag(
        &self,
        db: &Db,
        kind: ObjectKind,
        object_id: i64,
        author_id: i64,
        text: &str,
    ) -> Result<(), sqlx::Error> {
        let found = self.matches(&mut db.clone(), text).await?;
        for (rule_id, pattern) in found {
            flag(&mut db.clone(), kind, object_id, author_id, rule_id, &pattern).await?;
        }
        Ok(())
    }
}

/// A keyword rule's flag, unless that rule already has an open flag on this object.
pub async fn flag(
    db: &mut impl Exec,
    kind: ObjectKind,
    object_id: i64,
    author_id: i64,
    rule_id: i64,
    pattern: &str,
) -> Result<(), sqlx::Error> {
    db.execute(
        sql("INSERT INTO reports (object_type, object_id, author_id, rule_id, rule_pattern, reason, created_at)
             SELECT $1, $2, $3, $4, $5, 'keyword', $6
             WHERE NOT EXISTS (SELECT 1 FROM reports WHERE object_type = $1 AND object_id = $2 AND rule_id = $4
                                                      AND resolved_at IS NULL)")
        .bind(kind.as_str())
        .bind(object_id)
        .bind(author_id)
        .bind(rule_id)
        .bind(pattern)
        .bind(now()),
    )
    .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_words_match_whole_words_in_any_case() {
        let rule = compile("salary", false).unwrap();
        assert!(rule.is_match("Who knows the SALARY bands?"));
        assert!(!rule.is_match("salaryman"));
        let phrase = compile("c++ (internal)", false).unwrap();
        assert!(phrase.is_match("our C++ (Internal) guide"));
    }

    #[test]
    fn bad_expressions_are_refused_with_the_parser_message() {
        let error = compile("(unclosed", true).unwrap_err();
        assert!(error.contains("unclosed group"), "{error}");
        assert!(compile("", true).is_err());
        assert!(compile(&"a".repeat(201), true).is_err());
    }

    #[test]
    fn a_pathological_expression_runs_in_linear_time_or_is_refused() {
        // Exponential for a backtracking engine (this would not finish); linear here.
        let rule = compile("(a+)+$", true).unwrap();
        assert!(!rule.is_match(&format!("{}!", "a".repeat(100_000))));
        // A huge counted repetition exceeds the size limit.
        assert!(compile(r"(\w{1000}){1000}", true).unwrap_err().contains("too large"));
    }
}
