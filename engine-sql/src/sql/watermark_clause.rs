//! Spark 4's streaming relation syntax in SQL: `STREAM t` / `STREAM(t)` (a temp view of a
//! stream, read as one), and the watermark clause on a relation:
//! `FROM events WATERMARK ts DELAY OF INTERVAL 10 MINUTES [AS] e`, also after a subquery
//! (`FROM (SELECT ...) WATERMARK ...`) and with an expression (`WATERMARK
//! CAST(t AS TIMESTAMP) AS ts DELAY OF ...`, which adds the column).
//!
//! `sqlparser` knows neither, so the text is rewritten before parsing into table-valued
//! calls the planner recognizes: `__sstream_stream(t)`, and `__sstream_watermark(relation,
//! event_time, delay[, 'name'])` with the relation as an identifier, a subquery or such a
//! call. Only text with an unquoted `STREAM` before a name, or `WATERMARK ... DELAY OF`, is
//! touched; everything else reaches the parser as written.

use std::borrow::Cow;

use engine_core::{EngineError, Result};
use sqlparser::dialect::Dialect;
use sqlparser::keywords::Keyword;
use sqlparser::tokenizer::{Token, Tokenizer, Whitespace};

/// The table-valued call the clause becomes.
pub const WATERMARK_CALL: &str = "__sstream_watermark";
/// The table-valued call `STREAM t` becomes.
pub const STREAM_CALL: &str = "__sstream_stream";

const UNITS: &[&str] = &[
    "YEAR",
    "YEARS",
    "MONTH",
    "MONTHS",
    "WEEK",
    "WEEKS",
    "DAY",
    "DAYS",
    "HOUR",
    "HOURS",
    "MINUTE",
    "MINUTES",
    "SECOND",
    "SECONDS",
    "MILLISECOND",
    "MILLISECONDS",
    "MICROSECOND",
    "MICROSECONDS",
];

fn is_word(t: &Token, kw: &str) -> bool {
    matches!(t, Token::Word(w) if w.quote_style.is_none() && w.value.eq_ignore_ascii_case(kw))
}

fn is_unit(t: &Token) -> bool {
    UNITS.iter().any(|u| is_word(t, u))
}

fn syntax_error(near: &str) -> EngineError {
    EngineError::Parse(format!(
        "Syntax error at or near '{near}': a watermark clause is `WATERMARK <column or \
         expression> DELAY OF INTERVAL <delay>` after a relation. SQLSTATE: 42601"
    ))
}

/// `sql` with every watermark clause rewritten into a [`WATERMARK_CALL`] relation.
pub fn rewrite<'a>(sql: &'a str, dialect: &dyn Dialect) -> Result<Cow<'a, str>> {
    let upper = sql.to_ascii_uppercase();
    if !upper.contains("WATERMARK") && !upper.contains("STREAM") {
        return Ok(Cow::Borrowed(sql));
    }
    let Ok(mut tokens) = Tokenizer::new(dialect, sql).tokenize() else {
        // The parser reports the tokenizer's error itself.
        return Ok(Cow::Borrowed(sql));
    };
    let mut changed = false;
    while let Some((at, name, end)) = find_stream(&tokens) {
        let call = format!("{STREAM_CALL}({})", text(&tokens[name.0..=name.1]));
        let mut out = tokens[..at].to_vec();
        out.push(Token::make_word(&call, None));
        out.extend_from_slice(&tokens[end..]);
        tokens = out;
        changed = true;
    }
    while let Some(at) = find_clause(&tokens) {
        tokens = rewrite_one(tokens, at)?;
        changed = true;
    }
    if !changed {
        return Ok(Cow::Borrowed(sql));
    }
    Ok(Cow::Owned(tokens.iter().map(Token::to_string).collect()))
}

/// `(index of STREAM, first and last token of the name, one past the relation)` of the
/// first `STREAM name` / `STREAM(name)` after `FROM` or `JOIN`.
fn find_stream(tokens: &[Token]) -> Option<(usize, (usize, usize), usize)> {
    (0..tokens.len()).find_map(|i| {
        if !is_word(&tokens[i], "STREAM") {
            return None;
        }
        let before = prev(tokens, i)?;
        if !(is_word(&tokens[before], "FROM") || is_word(&tokens[before], "JOIN")) {
            return None;
        }
        let first = next(tokens, i)?;
        let paren = tokens[first] == Token::LParen;
        let name = if paren { next(tokens, first)? } else { first };
        // A name, not a keyword (`FROM stream WHERE ...` reads a table named `stream`).
        match &tokens[name] {
            Token::Word(w) if w.quote_style.is_some() || w.keyword == Keyword::NoKeyword => {}
            _ => return None,
        }
        let mut last = name;
        while let Some(dot) = next(tokens, last).filter(|&d| tokens[d] == Token::Period) {
            match next(tokens, dot) {
                Some(w) if matches!(tokens[w], Token::Word(_)) => last = w,
                _ => return None,
            }
        }
        if paren {
            let close = next(tokens, last).filter(|&c| tokens[c] == Token::RParen)?;
            Some((i, (name, last), close + 1))
        } else {
            Some((i, (name, last), last + 1))
        }
    })
}

/// The index of the first `WATERMARK` word followed (at paren depth 0) by `DELAY OF`.
fn find_clause(tokens: &[Token]) -> Option<usize> {
    (0..tokens.len()).find(|&i| is_word(&tokens[i], "WATERMARK") && delay_of(tokens, i).is_some())
}

fn is_space(t: &Token) -> bool {
    matches!(t, Token::Whitespace(_))
}

/// Index of the next token after `i` that is not whitespace.
fn next(tokens: &[Token], i: usize) -> Option<usize> {
    (i + 1..tokens.len()).find(|&j| !is_space(&tokens[j]))
}

/// Index of the previous token before `i` that is not whitespace.
fn prev(tokens: &[Token], i: usize) -> Option<usize> {
    (0..i).rev().find(|&j| !is_space(&tokens[j]))
}

/// The index of `DELAY` (followed by `OF`) ending the event-time expression after `at`.
fn delay_of(tokens: &[Token], at: usize) -> Option<usize> {
    let mut depth = 0i32;
    let mut i = at + 1;
    while i < tokens.len() {
        match &tokens[i] {
            Token::LParen => depth += 1,
            Token::RParen => {
                depth -= 1;
                if depth < 0 {
                    return None;
                }
            }
            Token::Comma | Token::SemiColon if depth == 0 => return None,
            t if depth == 0 && is_word(t, "DELAY") => {
                return next(tokens, i)
                    .filter(|&j| is_word(&tokens[j], "OF"))
                    .map(|_| i);
            }
            _ => {}
        }
        i += 1;
    }
    None
}

/// One past the last token of the interval starting at `i` (`INTERVAL ...`), by Spark's
/// grammar: a string with an optional unit (and `TO unit`), or `value unit` pairs.
fn interval_end(tokens: &[Token], i: usize) -> Result<usize> {
    if !is_word(&tokens[i], "INTERVAL") {
        return Err(syntax_error(&tokens[i].to_string()));
    }
    let mut end = i + 1;
    let mut pairs = 0;
    while let Some(v) = next(tokens, end - 1) {
        let value = match &tokens[v] {
            Token::Number(..) | Token::SingleQuotedString(_) => v,
            Token::Minus | Token::Plus => match next(tokens, v) {
                Some(n) if matches!(tokens[n], Token::Number(..)) => n,
                _ => break,
            },
            _ => break,
        };
        end = value + 1;
        pairs += 1;
        match next(tokens, value) {
            Some(u) if is_unit(&tokens[u]) => {
                end = u + 1;
                if let Some(to) = next(tokens, u).filter(|&t| is_word(&tokens[t], "TO"))
                    && let Some(u2) = next(tokens, to).filter(|&t| is_unit(&tokens[t]))
                {
                    end = u2 + 1;
                    break;
                }
            }
            _ if matches!(tokens[value], Token::SingleQuotedString(_)) => break,
            _ => return Err(syntax_error(&tokens[value].to_string())),
        }
    }
    if pairs == 0 {
        return Err(syntax_error("INTERVAL"));
    }
    Ok(end)
}

/// The first token of the relation that ends just before `at`: an identifier (`a.b`), a
/// parenthesized subquery or relation.
fn relation_start(tokens: &[Token], at: usize) -> Result<usize> {
    let last = prev(tokens, at).ok_or_else(|| syntax_error("WATERMARK"))?;
    match &tokens[last] {
        Token::RParen => {
            let mut depth = 0i32;
            for j in (0..=last).rev() {
                match tokens[j] {
                    Token::RParen => depth += 1,
                    Token::LParen => {
                        depth -= 1;
                        if depth == 0 {
                            return Ok(j);
                        }
                    }
                    _ => {}
                }
            }
            Err(syntax_error(")"))
        }
        Token::Word(_) => {
            let mut start = last;
            while let Some(dot) = prev(tokens, start).filter(|&d| tokens[d] == Token::Period) {
                match prev(tokens, dot) {
                    Some(w) if matches!(tokens[w], Token::Word(_)) => start = w,
                    _ => break,
                }
            }
            Ok(start)
        }
        other => Err(syntax_error(&other.to_string())),
    }
}

fn text(tokens: &[Token]) -> String {
    tokens.iter().map(Token::to_string).collect()
}

/// Rewrites the clause whose `WATERMARK` is at `at`.
fn rewrite_one(tokens: Vec<Token>, at: usize) -> Result<Vec<Token>> {
    let delay = delay_of(&tokens, at).ok_or_else(|| syntax_error("WATERMARK"))?;
    let of = next(&tokens, delay).ok_or_else(|| syntax_error("DELAY"))?;
    let interval = next(&tokens, of).ok_or_else(|| syntax_error("OF"))?;
    let end = interval_end(&tokens, interval)?;
    let start = relation_start(&tokens, at)?;
    let expr = &tokens[at + 1..delay];
    if expr.iter().all(is_space) {
        return Err(syntax_error("DELAY"));
    }
    // `expr AS name`: the name is the added column's.
    let mut depth = 0i32;
    let mut split = None;
    for (j, t) in expr.iter().enumerate() {
        match t {
            Token::LParen => depth += 1,
            Token::RParen => depth -= 1,
            t if depth == 0 && is_word(t, "AS") => split = Some(j),
            _ => {}
        }
    }
    let (expr, name) = match split {
        Some(j) => {
            let name = expr[j + 1..]
                .iter()
                .find_map(|t| match t {
                    Token::Word(w) => Some(w.value.clone()),
                    _ => None,
                })
                .ok_or_else(|| syntax_error("AS"))?;
            (&expr[..j], Some(name))
        }
        None => (expr, None),
    };
    let mut call = format!(
        "{WATERMARK_CALL}({}, {}, {}",
        text(&tokens[start..at]).trim(),
        text(expr).trim(),
        text(&tokens[interval..end]).trim()
    );
    if let Some(name) = name {
        call.push_str(&format!(", '{}'", name.replace('\'', "''")));
    }
    call.push(')');
    let mut out = tokens[..start].to_vec();
    out.push(Token::Whitespace(Whitespace::Space));
    // One token holding the call's text: it is only displayed again, never matched.
    out.push(Token::make_word(&call, None));
    out.extend_from_slice(&tokens[end..]);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use sqlparser::dialect::DatabricksDialect;

    fn rw(sql: &str) -> String {
        rewrite(sql, &DatabricksDialect).unwrap().into_owned()
    }

    #[test]
    fn clauses_become_calls_and_other_text_is_kept() {
        assert_eq!(
            rw(
                "SELECT * FROM events WATERMARK ts DELAY OF INTERVAL 10 MINUTES e WHERE x = 'watermark'"
            ),
            "SELECT * FROM  __sstream_watermark(events, ts, INTERVAL 10 MINUTES) e WHERE x = 'watermark'"
        );
        assert_eq!(
            rw(
                "SELECT * FROM db.t WATERMARK CAST(s AS TIMESTAMP) AS ts DELAY OF INTERVAL '1' HOUR AS t"
            ),
            "SELECT * FROM  __sstream_watermark(db.t, CAST(s AS TIMESTAMP), INTERVAL '1' HOUR, 'ts') AS t"
        );
        assert_eq!(
            rw(
                "SELECT * FROM (SELECT * FROM a) WATERMARK ts DELAY OF INTERVAL 1 MINUTE 30 SECONDS JOIN b"
            ),
            "SELECT * FROM  __sstream_watermark((SELECT * FROM a), ts, INTERVAL 1 MINUTE 30 SECONDS) JOIN b"
        );
        assert_eq!(
            rw(
                "SELECT * FROM STREAM(db.events) WATERMARK ts DELAY OF INTERVAL 1 MINUTE e JOIN STREAM t"
            ),
            "SELECT * FROM  __sstream_watermark(__sstream_stream(db.events), ts, INTERVAL 1 MINUTE) e JOIN __sstream_stream(t)"
        );
        let plain = "SELECT watermark, stream FROM stream WHERE x";
        assert!(matches!(
            rewrite(plain, &DatabricksDialect).unwrap(),
            Cow::Borrowed(_)
        ));
    }

    #[test]
    fn a_clause_without_a_delay_is_refused_with_the_form() {
        let e = rewrite(
            "SELECT * FROM t WATERMARK ts DELAY OF 10",
            &DatabricksDialect,
        )
        .unwrap_err()
        .to_string();
        assert!(
            e.contains("WATERMARK <column or expression> DELAY OF INTERVAL"),
            "{e}"
        );
    }
}
