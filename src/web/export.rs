//! What every download shares: CSV cells and rows that spreadsheets read safely, and a response body
//! streamed chunk by chunk from the database, so a large export never sits in memory.

use axum::body::{Body, Bytes};

use crate::db::Db;

/// One CSV cell: quoted as RFC 4180 says, and a text a spreadsheet would run as a formula (starting
/// with `=`, `+`, `-`, `@`, a tab or a carriage return) neutralised with a leading apostrophe.
pub fn csv_cell(value: &str) -> String {
    let neutral =
        if value.starts_with(['=', '+', '-', '@', '\t', '\r']) { format!("'{value}") } else { value.to_owned() };
    format!("\"{}\"", neutral.replace('"', "\"\""))
}

/// A CSV row of these cells, ended by CRLF.
pub fn csv_row<S: AsRef<str>>(cells: impl IntoIterator<Item = S>) -> String {
    let mut row = cells.into_iter().map(|c| csv_cell(c.as_ref())).collect::<Vec<_>>().join(",");
    row.push_str("\r\n");
    row
}

/// A body of `head`, then each chunk `next` returns given the cursor left by the one before
/// (starting at `start`), until it returns none. A failure part way cuts the stream short, which
/// tells the client the download failed (its status line is gone already).
pub fn stream_chunks<F, Fut>(db: Db, head: &'static str, start: i64, next: F) -> Body
where
    F: Fn(Db, i64) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = Result<Option<(String, i64)>, sqlx::Error>> + Send + 'static,
{
    let state = (db, start, false, false);
    Body::from_stream(futures_util::stream::unfold(state, move |(db, cursor, started, done)| {
        let chunk = if done || !started { None } else { Some(next(db.clone(), cursor)) };
        async move {
            if done {
                return None;
            }
            if !started {
                return Some((Ok::<Bytes, sqlx::Error>(Bytes::from(head)), (db, cursor, true, false)));
            }
            match chunk?.await {
                Ok(Some((text, last))) => Some((Ok(Bytes::from(text)), (db, last, true, false))),
                Ok(None) => None,
                Err(e) => {
                    tracing::error!(error = %e, "export failed part way");
                    Some((Err(e), (db, cursor, true, true)))
                }
            }
        }
    }))
}

#[cfg(test)]
mod tests {
    use super::{csv_cell, csv_row};

    #[test]
    fn csv_cells_are_quoted_and_formulas_neutralised() {
        assert_eq!(csv_cell("plain"), "\"plain\"");
        assert_eq!(csv_cell("say \"hi\", then\nleave"), "\"say \"\"hi\"\", then\nleave\"");
        assert_eq!(csv_cell("=HYPERLINK(\"http://x\")"), "\"'=HYPERLINK(\"\"http://x\"\")\"");
        for risky in ["+1", "-2", "@SUM(A1)", "\tx"] {
            assert!(csv_cell(risky).starts_with("\"'"), "{risky}");
        }
        assert_eq!(csv_row(["a", "b"]), "\"a\",\"b\"\r\n");
    }
}
