//! SQL text to statements: the Spark dialect on top of `sqlparser`, statement splitting, and
//! the Spark commands `sqlparser` does not know (`CREATE TEMPORARY VIEW ... USING`,
//! `EXPLAIN EXTENDED`, `SET key`).
//!
//! Dialect choice: `sqlparser`'s `DatabricksDialect` is the closest to Spark SQL (Databricks
//! runs Spark): back-quoted identifiers, `LATERAL VIEW`, `<=>`, `RLIKE`/`REGEXP`, typed
//! literals (`DATE '...'`, `TIMESTAMP '...'`), numeric suffixes (`10L`, `1.5D`, read as
//! identifiers that start with a digit), `VALUES` as a table, `"..."` as strings and
//! backslash escapes. It lacks only `DIV`, which [`SparkDialect`] adds. `HiveDialect`
//! rejects `FROM VALUES (..), (..)`, so it is not used.

use std::any::TypeId;

use sqlparser::ast;
use sqlparser::dialect::{DatabricksDialect, Dialect};
use sqlparser::keywords::Keyword;
use sqlparser::parser::{Parser, ParserError};
use sqlparser::tokenizer::{Token, Tokenizer};

use engine_core::{EngineError, Result};

/// Spark SQL as `sqlparser` should read it: the Databricks dialect plus the `DIV` operator.
#[derive(Debug, Default, Clone, Copy)]
pub struct SparkDialect;

/// Forwards the dialect hooks Databricks overrides, so Spark syntax parses the same way.
impl Dialect for SparkDialect {
    // Report Databricks' type id so the parser's `dialect_of!(DatabricksDialect)` special
    // cases (the `exists(...)` function, `array(...)`) apply to us too.
    fn dialect(&self) -> TypeId {
        TypeId::of::<DatabricksDialect>()
    }
    fn is_delimited_identifier_start(&self, ch: char) -> bool {
        DatabricksDialect.is_delimited_identifier_start(ch)
    }
    fn identifier_quote_style(&self, identifier: &str) -> Option<char> {
        DatabricksDialect.identifier_quote_style(identifier)
    }
    fn is_identifier_start(&self, ch: char) -> bool {
        DatabricksDialect.is_identifier_start(ch)
    }
    fn is_identifier_part(&self, ch: char) -> bool {
        DatabricksDialect.is_identifier_part(ch)
    }
    fn supports_numeric_prefix(&self) -> bool {
        true
    }
    fn supports_filter_during_aggregation(&self) -> bool {
        true
    }
    fn supports_group_by_expr(&self) -> bool {
        true
    }
    fn supports_lambda_functions(&self) -> bool {
        true
    }
    // Spark reads `INTERVAL '1 hour 30 minutes'` (the units inside the string).
    fn require_interval_qualifier(&self) -> bool {
        false
    }
    fn supports_struct_literal(&self) -> bool {
        true
    }
    fn supports_nested_comments(&self) -> bool {
        true
    }
    fn supports_group_by_with_modifier(&self) -> bool {
        true
    }
    fn supports_values_as_table_factor(&self) -> bool {
        true
    }
    fn supports_bang_not_operator(&self) -> bool {
        true
    }
    fn supports_cte_without_as(&self) -> bool {
        true
    }
    fn supports_select_item_multi_column_alias(&self) -> bool {
        true
    }
    fn supports_map_literal_with_angle_brackets(&self) -> bool {
        true
    }
    fn supports_string_literal_backslash_escape(&self) -> bool {
        true
    }

    // `struct(*)`, `struct(t.*)`, `struct(t.*, u.id)` (Spark's CreateStruct over columns,
    // stars expanded): sqlparser's struct literal cannot hold a star, so a `struct(..)` whose
    // arguments include one is parsed here as a call. Any other `struct(..)` (named fields,
    // `struct(1 AS a)`) is left to the struct literal.
    fn parse_prefix(&self, parser: &mut Parser) -> Option<Result<ast::Expr, ParserError>> {
        use sqlparser::tokenizer::Token;
        if let Some(e) = multi_unit_interval(parser) {
            return Some(Ok(e));
        }
        if let Some(e) = exponent_with_suffix(parser) {
            return Some(Ok(e));
        }
        let t = parser.peek_tokens_ref::<2>();
        let is_struct_call = matches!(&t[0].token, Token::Word(w) if w.keyword == Keyword::STRUCT)
            && t[1].token == Token::LParen;
        if !is_struct_call {
            return None;
        }
        let args = parser.maybe_parse(|p| {
            p.next_token();
            p.expect_token(&Token::LParen)?;
            let args = p.parse_comma_separated(Parser::parse_function_args)?;
            p.expect_token(&Token::RParen)?;
            let has_star = args.iter().any(|a| {
                matches!(
                    a,
                    ast::FunctionArg::Unnamed(
                        ast::FunctionArgExpr::Wildcard | ast::FunctionArgExpr::QualifiedWildcard(_)
                    )
                )
            });
            if has_star {
                Ok(args)
            } else {
                // Not ours: undo and let the struct literal parse it.
                p.expected("a star argument", p.peek_token())
            }
        });
        match args {
            Ok(Some(args)) => Some(Ok(ast::Expr::Function(ast::Function {
                name: ast::ObjectName::from(vec![ast::Ident::new("struct")]),
                uses_odbc_syntax: false,
                parameters: ast::FunctionArguments::None,
                args: ast::FunctionArguments::List(ast::FunctionArgumentList {
                    duplicate_treatment: None,
                    args,
                    clauses: vec![],
                }),
                filter: None,
                null_treatment: None,
                over: None,
                within_group: vec![],
            }))),
            Ok(None) => None,
            Err(e) => Some(Err(e)),
        }
    }

    // `a DIV b`: Spark's integral division. The default precedence table already ranks DIV
    // with `*` and `/`; only the infix parse is missing.
    fn parse_infix(
        &self,
        parser: &mut Parser,
        expr: &ast::Expr,
        precedence: u8,
    ) -> Option<Result<ast::Expr, ParserError>> {
        if parser.parse_keyword(Keyword::DIV) {
            let right = match parser.parse_subexpr(precedence) {
                Ok(e) => e,
                Err(e) => return Some(Err(e)),
            };
            Some(Ok(ast::Expr::BinaryOp {
                left: Box::new(expr.clone()),
                op: ast::BinaryOperator::MyIntegerDivide,
                right: Box::new(right),
            }))
        } else {
            None
        }
    }
}

/// `1.0E-5D`, `2.5e3F`, `1E2BD`: a number in exponent form with a Spark type suffix. The
/// tokenizer reads a suffixed plain number (`1.5D`) as one identifier, but stops a number at
/// its exponent, so the suffix would become an alias (`1.0E-5 AS D`). A suffix written right
/// after the number (no space) joins it, as an identifier like the plain form's.
fn exponent_with_suffix(parser: &mut Parser) -> Option<ast::Expr> {
    let [number, suffix] = parser.peek_tokens_ref::<2>();
    let Token::Number(n, false) = &number.token else {
        return None;
    };
    let Token::Word(w) = &suffix.token else {
        return None;
    };
    let adjacent = number.span.end == suffix.span.start;
    // Spark's lexer allows an exponent before D, F and BD only (`1E2L` is `1E2 AS L`).
    let is_suffix = ["D", "F", "BD"]
        .iter()
        .any(|s| w.value.eq_ignore_ascii_case(s));
    if !adjacent || !is_suffix || w.quote_style.is_some() || !n.contains(['e', 'E']) {
        return None;
    }
    let text = format!("{n}{}", w.value);
    parser.next_token();
    parser.next_token();
    Some(ast::Expr::Identifier(ast::Ident::new(text)))
}

/// `INTERVAL 1 HOUR 30 MINUTES` (two or more value-unit pairs, which `sqlparser` does not
/// read) as the string form `INTERVAL '1 HOUR 30 MINUTES'`, which it does; `None` (nothing
/// consumed) for anything else.
fn multi_unit_interval(parser: &mut Parser) -> Option<ast::Expr> {
    use engine_core::interval::literal::is_unit_word;
    let t = parser.peek_tokens_ref::<1>();
    if !matches!(&t[0].token, Token::Word(w) if w.keyword == Keyword::INTERVAL) {
        return None;
    }
    parser
        .maybe_parse(|p| {
            p.next_token();
            let mut pairs: Vec<String> = Vec::new();
            loop {
                let minus = p.peek_token_ref().token == Token::Minus;
                let [value, unit] = if minus {
                    let t = p.peek_tokens::<3>();
                    [t[1].clone(), t[2].clone()]
                } else {
                    let t = p.peek_tokens::<2>();
                    [t[0].clone(), t[1].clone()]
                };
                let value = match value {
                    Token::Number(n, _) => n,
                    Token::SingleQuotedString(s) => s,
                    _ => break,
                };
                let unit = match unit {
                    Token::Word(w) if is_unit_word(&w.value) => w.value,
                    _ => break,
                };
                for _ in 0..if minus { 3 } else { 2 } {
                    p.next_token();
                }
                pairs.push(format!("{}{value} {unit}", if minus { "-" } else { "" }));
            }
            if pairs.len() < 2 {
                // Not ours: undo and let the parser read the usual one-unit forms.
                return p.expected("two interval units", p.peek_token());
            }
            Ok(ast::Expr::Interval(ast::Interval {
                value: Box::new(ast::Expr::value(ast::Value::SingleQuotedString(
                    pairs.join(" "),
                ))),
                leading_field: None,
                leading_precision: None,
                last_field: None,
                fractional_seconds_precision: None,
            }))
        })
        .ok()
        .flatten()
}

/// One parsed statement, in the engine's terms.
#[derive(Debug, Clone)]
pub enum SparkStatement {
    /// A query: `SELECT`, `WITH`, `VALUES`, set operations.
    Query(Box<ast::Query>),
    /// `CREATE [OR REPLACE] TEMPORARY VIEW v [(col TYPE, ...)] USING fmt [OPTIONS (...)]`.
    CreateViewUsing {
        /// View name.
        name: String,
        /// `OR REPLACE`.
        replace: bool,
        /// `IF NOT EXISTS`.
        if_not_exists: bool,
        /// The column list as Spark DDL text (`a INT, b STRING`), the source's schema.
        schema_ddl: Option<String>,
        /// The source format (`csv`, `json`, `parquet`, `text`).
        format: String,
        /// `OPTIONS (key 'value', ...)`, keys as written.
        options: Vec<(String, String)>,
    },
    /// `CREATE [OR REPLACE] TEMPORARY VIEW v [(c1, c2)] AS query`.
    CreateViewAs {
        /// View name.
        name: String,
        /// `OR REPLACE`.
        replace: bool,
        /// `IF NOT EXISTS`.
        if_not_exists: bool,
        /// Optional new column names.
        columns: Vec<String>,
        /// The view's query.
        query: Box<ast::Query>,
    },
    /// `DROP VIEW [IF EXISTS] v`.
    DropView {
        /// View name.
        name: String,
        /// `IF EXISTS`.
        if_exists: bool,
    },
    /// `DESCRIBE [TABLE] v`.
    DescribeTable(Vec<String>),
    /// `DESCRIBE [QUERY] SELECT ...`.
    DescribeQuery(Box<ast::Query>),
    /// `EXPLAIN [EXTENDED] query`.
    Explain {
        /// `EXTENDED`: all plans, not only the physical one.
        extended: bool,
        /// The explained query.
        query: Box<ast::Query>,
    },
    /// `SET` (all), `SET key` (one) or `SET key=value`.
    Set {
        /// The key, if any.
        key: Option<String>,
        /// The new value, if any.
        value: Option<String>,
    },
    /// `SHOW VIEWS` / `SHOW TABLES`.
    Show {
        /// True for `SHOW TABLES` (column `tableName`), false for `SHOW VIEWS` (`viewName`).
        tables: bool,
    },
}

/// Splits SQL text into statements at top-level `;`, honouring quotes and comments.
/// Empty statements are dropped.
pub fn split_statements(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\'' | '"' | '`' => {
                cur.push(c);
                while let Some(d) = chars.next() {
                    cur.push(d);
                    if d == '\\' && c != '`' {
                        if let Some(e) = chars.next() {
                            cur.push(e);
                        }
                    } else if d == c {
                        break;
                    }
                }
            }
            '-' if chars.peek() == Some(&'-') => {
                // A line comment: keep it out of the statement text entirely.
                for d in chars.by_ref() {
                    if d == '\n' {
                        cur.push('\n');
                        break;
                    }
                }
            }
            '/' if chars.peek() == Some(&'*') => {
                chars.next();
                let mut depth = 1;
                let mut prev = ' ';
                for d in chars.by_ref() {
                    if prev == '/' && d == '*' {
                        depth += 1;
                        prev = ' ';
                        continue;
                    }
                    if prev == '*' && d == '/' {
                        depth -= 1;
                        if depth == 0 {
                            break;
                        }
                        prev = ' ';
                        continue;
                    }
                    prev = d;
                }
                cur.push(' ');
            }
            ';' => {
                if !cur.trim().is_empty() {
                    out.push(cur.trim().to_string());
                }
                cur.clear();
            }
            c => cur.push(c),
        }
    }
    if !cur.trim().is_empty() {
        out.push(cur.trim().to_string());
    }
    out
}

/// Spark's `PARSE_SYNTAX_ERROR` for a `sqlparser` error on `sql`.
pub fn parse_error(e: ParserError, sql: &str) -> EngineError {
    let msg = e.to_string();
    // sqlparser says "... Expected: X, found: TOKEN at Line: 1, Column: 8".
    let near = match msg.split_once("found: ") {
        Some((_, rest)) => rest
            .split(" at Line:")
            .next()
            .unwrap_or(rest)
            .trim()
            .to_string(),
        None if msg.contains("EOF") => "EOF".to_string(),
        None => sql.split_whitespace().next().unwrap_or("").to_string(),
    };
    if near == "EOF" {
        EngineError::Parse("Syntax error at or near end of input. SQLSTATE: 42601".into())
    } else {
        syntax_error_near(&near)
    }
}

fn syntax_error_near(tok: &str) -> EngineError {
    EngineError::Parse(format!("Syntax error at or near '{tok}'. SQLSTATE: 42601"))
}

fn parser_for(sql: &str) -> Result<Parser<'static>> {
    static DIALECT: SparkDialect = SparkDialect;
    // Spark's `WATERMARK ... DELAY OF ...` clause, which sqlparser does not know.
    let text = super::watermark_clause::rewrite(sql, &DIALECT)?;
    Parser::new(&DIALECT)
        .try_with_sql(&text)
        .map_err(|e| parse_error(e, sql))
}

/// Parses one query (`SELECT ...`, `WITH ...`, `VALUES ...`).
pub fn parse_query(sql: &str) -> Result<Box<ast::Query>> {
    let mut p = parser_for(sql)?;
    let q = p.parse_query().map_err(|e| parse_error(e, sql))?;
    expect_end(&mut p, sql)?;
    Ok(q)
}

/// Parses one expression, as `DataFrame.selectExpr` and `expr("...")` take it.
pub fn parse_expr(sql: &str) -> Result<ast::Expr> {
    let mut p = parser_for(sql)?;
    let e = p.parse_expr().map_err(|e| parse_error(e, sql))?;
    expect_end(&mut p, sql)?;
    Ok(e)
}

/// Parses one select item: an expression with an optional `[AS] alias`.
pub fn parse_select_item(sql: &str) -> Result<ast::SelectItem> {
    let mut p = parser_for(sql)?;
    let item = p.parse_select_item().map_err(|e| parse_error(e, sql))?;
    expect_end(&mut p, sql)?;
    Ok(item)
}

fn expect_end(p: &mut Parser, _sql: &str) -> Result<()> {
    match p.peek_token().token {
        Token::EOF => Ok(()),
        Token::SemiColon => Ok(()),
        t => Err(syntax_error_near(&t.to_string())),
    }
}

fn is_word(t: &Token, kw: &str) -> bool {
    matches!(t, Token::Word(w) if w.quote_style.is_none() && w.value.eq_ignore_ascii_case(kw))
}

fn starts_query(t: &Token) -> bool {
    matches!(t, Token::LParen)
        || ["SELECT", "WITH", "VALUES", "FROM", "TABLE"]
            .iter()
            .any(|k| is_word(t, k))
}

/// Parses one statement (no `;` inside).
pub fn parse_statement(sql: &str) -> Result<SparkStatement> {
    let mut p = parser_for(sql)?;
    let first = p.peek_token().token;
    if starts_query(&first) {
        return Ok(SparkStatement::Query(parse_query(sql)?));
    }
    let err = |e: ParserError| parse_error(e, sql);
    if is_word(&first, "EXPLAIN") {
        p.next_token();
        let mut extended = false;
        let mode = p.peek_token().token;
        if is_word(&mode, "EXTENDED") {
            extended = true;
            p.next_token();
        } else if ["FORMATTED", "CODEGEN", "COST", "LOGICAL"]
            .iter()
            .any(|k| is_word(&mode, k))
        {
            return Err(EngineError::Unsupported(format!(
                "EXPLAIN {mode} (supported: EXPLAIN and EXPLAIN EXTENDED)"
            )));
        }
        let q = p.parse_query().map_err(err)?;
        expect_end(&mut p, sql)?;
        return Ok(SparkStatement::Explain { extended, query: q });
    }
    if is_word(&first, "SET") {
        return parse_set(sql);
    }
    if is_word(&first, "DESCRIBE") || is_word(&first, "DESC") {
        p.next_token();
        let next = p.peek_token().token;
        if is_word(&next, "QUERY") || is_word(&next, "TABLE") {
            p.next_token();
        } else if is_word(&next, "EXTENDED") || is_word(&next, "FORMATTED") {
            return Err(EngineError::Unsupported(format!("DESCRIBE {next}")));
        }
        if starts_query(&p.peek_token().token) {
            let q = p.parse_query().map_err(err)?;
            expect_end(&mut p, sql)?;
            return Ok(SparkStatement::DescribeQuery(q));
        }
        let name = p.parse_object_name(false).map_err(err)?;
        expect_end(&mut p, sql)?;
        return Ok(SparkStatement::DescribeTable(object_name_parts(&name)?));
    }
    if is_word(&first, "SHOW") {
        p.next_token();
        let what = p.next_token().token;
        let tables = if is_word(&what, "TABLES") {
            true
        } else if is_word(&what, "VIEWS") {
            false
        } else {
            return Err(EngineError::Unsupported(format!("SHOW {what}")));
        };
        expect_end(&mut p, sql)?;
        return Ok(SparkStatement::Show { tables });
    }
    if is_word(&first, "DROP") {
        p.next_token();
        let what = p.next_token().token;
        if !is_word(&what, "VIEW") {
            return Err(EngineError::Unsupported(format!(
                "DROP {what}: only temporary views exist in this engine (DROP VIEW)"
            )));
        }
        let if_exists = p.parse_keywords(&[Keyword::IF, Keyword::EXISTS]);
        let name = p.parse_object_name(false).map_err(err)?;
        expect_end(&mut p, sql)?;
        return Ok(SparkStatement::DropView {
            name: single_name(&name)?,
            if_exists,
        });
    }
    if is_word(&first, "CREATE") {
        return parse_create(&mut p, sql);
    }
    // Spark statements this engine lacks are unsupported; anything else is a typo.
    const SPARK_STATEMENTS: &[&str] = &[
        "ADD", "ALTER", "ANALYZE", "CACHE", "CALL", "CLEAR", "COMMENT", "DECLARE", "DELETE",
        "EXECUTE", "INSERT", "LIST", "LOAD", "MERGE", "MSCK", "REFRESH", "REPAIR", "REPLACE",
        "RESET", "TRUNCATE", "UNCACHE", "UNSET", "UPDATE", "USE",
    ];
    if !SPARK_STATEMENTS.iter().any(|k| is_word(&first, k)) {
        return Err(syntax_error_near(&first.to_string()));
    }
    Err(EngineError::Unsupported(format!(
        "the statement starting with `{first}` (supported: queries, CREATE TEMPORARY VIEW, DROP VIEW, DESCRIBE, EXPLAIN, SET, SHOW VIEWS/TABLES)"
    )))
}

fn parse_set(sql: &str) -> Result<SparkStatement> {
    // Spark reads `SET` arguments as raw text: keys contain dots and values anything.
    let rest = sql.trim_start()[3..].trim();
    if rest.is_empty() {
        return Ok(SparkStatement::Set {
            key: None,
            value: None,
        });
    }
    if rest == "-v" {
        return Err(EngineError::Unsupported("SET -v".into()));
    }
    let (key, value) = match rest.split_once('=') {
        Some((k, v)) => (k.trim(), Some(v.trim())),
        None => (rest, None),
    };
    let unquote = |s: &str| -> String {
        let s = s.trim();
        if s.len() >= 2
            && ((s.starts_with('`') && s.ends_with('`'))
                || (s.starts_with('\'') && s.ends_with('\''))
                || (s.starts_with('"') && s.ends_with('"')))
        {
            s[1..s.len() - 1].to_string()
        } else {
            s.to_string()
        }
    };
    if key.is_empty() || key.contains(char::is_whitespace) {
        return Err(EngineError::Parse(format!(
            "[INVALID_SET_SYNTAX] Expected format is 'SET', 'SET key', or 'SET key=value'. If you want to include special characters in key, or include semicolon in value, please use backquotes, e.g., SET `key`=`value`. SQLSTATE: 42000: {sql}"
        )));
    }
    Ok(SparkStatement::Set {
        key: Some(unquote(key)),
        value: value.map(unquote),
    })
}

fn parse_create(p: &mut Parser, sql: &str) -> Result<SparkStatement> {
    let err = |e: ParserError| parse_error(e, sql);
    p.next_token(); // CREATE
    let replace = p.parse_keywords(&[Keyword::OR, Keyword::REPLACE]);
    if is_word(&p.peek_token().token, "GLOBAL") {
        return Err(EngineError::Unsupported(
            "GLOBAL TEMPORARY views (use CREATE TEMPORARY VIEW)".into(),
        ));
    }
    let temp = p.parse_one_of_keywords(&[Keyword::TEMP, Keyword::TEMPORARY]);
    let what = p.next_token().token;
    if !is_word(&what, "VIEW") || temp.is_none() {
        return Err(EngineError::Unsupported(format!(
            "CREATE {}{what}: only temporary views are supported (CREATE TEMPORARY VIEW)",
            if temp.is_some() { "TEMPORARY " } else { "" }
        )));
    }
    let if_not_exists = p.parse_keywords(&[Keyword::IF, Keyword::NOT, Keyword::EXISTS]);
    let name = single_name(&p.parse_object_name(false).map_err(err)?)?;
    // An optional parenthesised column list; kept as tokens until we know its form.
    let mut col_tokens: Option<Vec<Token>> = None;
    if p.consume_token(&Token::LParen) {
        let mut depth = 0usize;
        let mut toks = Vec::new();
        loop {
            let t = p.next_token().token;
            match t {
                Token::EOF => {
                    return Err(parse_error(
                        ParserError::ParserError("found: EOF".into()),
                        sql,
                    ));
                }
                Token::LParen => depth += 1,
                Token::RParen if depth == 0 => break,
                Token::RParen => depth -= 1,
                _ => {}
            }
            toks.push(t);
        }
        col_tokens = Some(toks);
    }
    if p.parse_keyword(Keyword::USING) {
        let format = p.parse_identifier().map_err(err)?.value.to_lowercase();
        let mut options = Vec::new();
        if p.parse_keyword(Keyword::OPTIONS) {
            p.expect_token(&Token::LParen).map_err(err)?;
            loop {
                if p.consume_token(&Token::RParen) {
                    break;
                }
                let key = option_key(p)?;
                let _ = p.consume_token(&Token::Eq);
                let value = match p.next_token().token {
                    Token::SingleQuotedString(s) | Token::DoubleQuotedString(s) => s,
                    Token::Number(n, _) => n,
                    Token::Word(w) => w.value.to_lowercase(),
                    t => return Err(syntax_error_near(&t.to_string())),
                };
                options.push((key, value));
                if !p.consume_token(&Token::Comma) {
                    p.expect_token(&Token::RParen).map_err(err)?;
                    break;
                }
            }
        }
        expect_end(p, sql)?;
        let schema_ddl = col_tokens.map(|toks| tokens_text(&toks));
        return Ok(SparkStatement::CreateViewUsing {
            name,
            replace,
            if_not_exists,
            schema_ddl,
            format,
            options,
        });
    }
    // `COMMENT '...'` on the view is accepted and ignored.
    if p.parse_keyword(Keyword::COMMENT) {
        p.next_token();
    }
    p.expect_keyword(Keyword::AS).map_err(err)?;
    let query = p.parse_query().map_err(err)?;
    expect_end(p, sql)?;
    let mut columns = Vec::new();
    if let Some(toks) = col_tokens {
        // `(a, b COMMENT 'x')`: names, each optionally with a comment.
        let mut expect_name = true;
        let mut skip_next = false;
        for t in toks {
            if skip_next {
                skip_next = false;
                continue;
            }
            match t {
                Token::Comma => expect_name = true,
                Token::Word(w) if expect_name => {
                    columns.push(w.value);
                    expect_name = false;
                }
                Token::Word(w) if w.value.eq_ignore_ascii_case("COMMENT") => skip_next = true,
                t => return Err(syntax_error_near(&t.to_string())),
            }
        }
    }
    Ok(SparkStatement::CreateViewAs {
        name,
        replace,
        if_not_exists,
        columns,
        query,
    })
}

/// An option key: `path`, `'path'`, or a dotted name `a.b.c`.
fn option_key(p: &mut Parser) -> Result<String> {
    let mut key = String::new();
    loop {
        match p.next_token().token {
            Token::SingleQuotedString(s) | Token::DoubleQuotedString(s) if key.is_empty() => {
                return Ok(s);
            }
            Token::Word(w) => key.push_str(&w.value),
            t => return Err(syntax_error_near(&t.to_string())),
        }
        if !p.consume_token(&Token::Period) {
            return Ok(key);
        }
        key.push('.');
    }
}

/// Tokens back to text for the DDL type parser (which ignores the spacing).
fn tokens_text(tokens: &[Token]) -> String {
    tokens
        .iter()
        .map(|t| t.to_string())
        .collect::<Vec<_>>()
        .join(" ")
}

/// The parts of a (possibly qualified) name, as written.
pub fn object_name_parts(name: &ast::ObjectName) -> Result<Vec<String>> {
    name.0
        .iter()
        .map(|part| match part {
            ast::ObjectNamePart::Identifier(i) => Ok(i.value.clone()),
            other => Err(EngineError::Unsupported(format!("the name part `{other}`"))),
        })
        .collect()
}

fn single_name(name: &ast::ObjectName) -> Result<String> {
    let parts = object_name_parts(name)?;
    match parts.as_slice() {
        [n] => Ok(n.clone()),
        _ => Err(EngineError::Unsupported(format!(
            "the qualified view name `{name}`: temporary views have one-part names"
        ))),
    }
}

/// Tokenizes `sql` with the Spark dialect (used by tests and tools that inspect SQL).
pub fn tokenize(sql: &str) -> Result<Vec<Token>> {
    Tokenizer::new(&SparkDialect, sql)
        .tokenize()
        .map_err(|e| EngineError::Parse(format!("{e}. SQLSTATE: 42601")))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn dialect_reads_spark_syntax() {
        for sql in [
            "SELECT `a b`.c FROM t",
            "SELECT a DIV 2, a <=> b, a RLIKE 'x', TIMESTAMP '2020-01-01 00:00:00' FROM t",
            "SELECT * FROM t LATERAL VIEW explode(arr) x AS y",
            "SELECT 1.5D, 10L, 2Y FROM t",
            "SELECT arr[0], m['k'] FROM t",
            "SELECT * FROM VALUES (1, 'a'), (2, 'b') AS t(x, y)",
            "SELECT * FROM a LEFT SEMI JOIN b ON a.x = b.x",
        ] {
            parse_query(sql).unwrap();
        }
        let q = parse_query("SELECT 7 DIV 2").unwrap();
        assert_eq!(q.to_string(), "SELECT 7 DIV 2");
    }

    #[test]
    fn splits_statements_outside_quotes() {
        let s = split_statements("SELECT ';'; -- x;y\nSELECT 2 /* ; */;;");
        assert_eq!(s, vec!["SELECT ';'", "SELECT 2"]);
    }

    #[test]
    fn parses_commands() {
        match parse_statement(
            "CREATE OR REPLACE TEMPORARY VIEW v (a INT, b ARRAY<STRING>) USING csv OPTIONS (path '/x.csv', header 'true', 'sep' = ',')",
        )
        .unwrap()
        {
            SparkStatement::CreateViewUsing {
                name,
                replace,
                schema_ddl,
                format,
                options,
                ..
            } => {
                assert_eq!(name, "v");
                assert!(replace);
                assert_eq!(format, "csv");
                let ddl = schema_ddl.unwrap();
                assert_eq!(engine_core::types::parse_ddl_schema(&ddl).unwrap().fields().len(), 2);
                assert_eq!(options[0], ("path".to_string(), "/x.csv".to_string()));
                assert_eq!(options[2], ("sep".to_string(), ",".to_string()));
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            parse_statement("CREATE TEMP VIEW v (x, y) AS SELECT 1, 2").unwrap(),
            SparkStatement::CreateViewAs { columns, .. } if columns == vec!["x", "y"]
        ));
        assert!(matches!(
            parse_statement("EXPLAIN EXTENDED SELECT 1").unwrap(),
            SparkStatement::Explain { extended: true, .. }
        ));
        assert!(matches!(
            parse_statement("SET spark.sql.shuffle.partitions = 4").unwrap(),
            SparkStatement::Set { key: Some(k), value: Some(v) } if k == "spark.sql.shuffle.partitions" && v == "4"
        ));
        assert!(matches!(
            parse_statement("set a.b").unwrap(),
            SparkStatement::Set { key: Some(k), value: None } if k == "a.b"
        ));
        assert!(matches!(
            parse_statement("DESCRIBE SELECT 1").unwrap(),
            SparkStatement::DescribeQuery(_)
        ));
        assert!(matches!(
            parse_statement("DESC v").unwrap(),
            SparkStatement::DescribeTable(n) if n == vec!["v"]
        ));
        assert!(matches!(
            parse_statement("DROP VIEW IF EXISTS v").unwrap(),
            SparkStatement::DropView {
                if_exists: true,
                ..
            }
        ));
        assert!(matches!(
            parse_statement("SHOW VIEWS").unwrap(),
            SparkStatement::Show { tables: false }
        ));
    }

    #[test]
    fn syntax_errors_look_like_spark() {
        let e = parse_statement("SELECT 1 FROM").unwrap_err().to_string();
        assert_eq!(
            e,
            "[PARSE_SYNTAX_ERROR] Syntax error at or near end of input. SQLSTATE: 42601"
        );
        let e = parse_statement("SELECT 1 2 3").unwrap_err().to_string();
        assert!(
            e.starts_with("[PARSE_SYNTAX_ERROR] Syntax error at or near '"),
            "{e}"
        );
        assert!(matches!(
            parse_statement("CREATE TABLE t (a INT)"),
            Err(EngineError::Unsupported(_))
        ));
    }
}
