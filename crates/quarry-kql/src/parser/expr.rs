//! Expressions, from pipelines down to literals, with KQL's precedence:
//! `|` < `or` < `and` < comparisons and string operators < `+ -` < `* / %` < unary < postfix.

use super::{Failed, PResult, Parser};
use crate::ast::{
    Arg, BinaryOp, DynamicValue, Expr, ExprKind, Ident, ListOp, Literal, Operator, OperatorKind,
    StringPredicate, UnaryOp,
};
use crate::diagnostic::Diagnostic;
use crate::lexer::decode_string;
use crate::span::Span;
use crate::token::TokenKind;

/// Type names whose literal form `type(text)` takes raw text read from the token stream.
const TOKEN_LITERAL_TYPES: &[&str] = &[
    "int", "long", "real", "double", "decimal", "bool", "boolean",
];

/// Reads a comparison or string operator word (`has`, `!contains_cs`, …).
fn string_operator(word: &str) -> Option<BinaryOp> {
    let (negated, rest) = match word.strip_prefix('!') {
        Some(rest) => (true, rest),
        None => (false, word),
    };
    let (base, case_sensitive) = match rest.strip_suffix("_cs") {
        Some(base) => (base, true),
        None => (rest, false),
    };
    let predicate = match base {
        "has" => StringPredicate::Has,
        "hasprefix" => StringPredicate::HasPrefix,
        "hassuffix" => StringPredicate::HasSuffix,
        "contains" => StringPredicate::Contains,
        "startswith" => StringPredicate::StartsWith,
        "endswith" => StringPredicate::EndsWith,
        "containscs" if !case_sensitive && !negated => {
            return Some(BinaryOp::String {
                predicate: StringPredicate::Contains,
                case_sensitive: true,
                negated,
            })
        }
        "notcontains" | "notcontainscs" if !negated && !case_sensitive => {
            return Some(BinaryOp::String {
                predicate: StringPredicate::Contains,
                case_sensitive: base == "notcontainscs",
                negated: true,
            })
        }
        _ => return None,
    };
    Some(BinaryOp::String {
        predicate,
        case_sensitive,
        negated,
    })
}

fn list_operator(word: &str) -> Option<ListOp> {
    Some(match word {
        "in" => ListOp::In,
        "!in" => ListOp::NotIn,
        "in~" => ListOp::InCi,
        "!in~" => ListOp::NotInCi,
        "has_any" => ListOp::HasAny,
        "has_all" => ListOp::HasAll,
        _ => return None,
    })
}

fn binary(op: BinaryOp, left: Expr, right: Expr) -> Expr {
    let span = left.span.to(right.span);
    Expr::new(
        ExprKind::Binary {
            op,
            left: Box::new(left),
            right: Box::new(right),
        },
        span,
    )
}

impl<'a> Parser<'a> {
    /// A full expression that may continue with `| operator …`.
    pub(super) fn parse_pipe_expr(&mut self) -> PResult<Expr> {
        self.enter()?;
        let result = self.parse_pipe_expr_inner();
        self.leave();
        result
    }

    fn parse_pipe_expr_inner(&mut self) -> PResult<Expr> {
        let source = match self.source_operator_start() {
            true => {
                let operator = self.parse_source_operator()?;
                let span = operator.span;
                Expr::new(
                    ExprKind::Source {
                        operator: Box::new(operator),
                    },
                    span,
                )
            }
            false => self.parse_expr()?,
        };
        if !self.at(TokenKind::Pipe) {
            return Ok(source);
        }
        let operators = self.parse_operator_chain(true);
        let span = Span::new(source.span.start, self.last_end());
        Ok(Expr::new(
            ExprKind::Pipeline {
                source: Box::new(source),
                operators,
            },
            span,
        ))
    }

    /// Operators separated by `|`. With `leading_pipe`, each operator is preceded by `|`;
    /// otherwise the first one is not (a subquery such as `mv-apply … on (where …)`).
    pub(super) fn parse_operator_chain(&mut self, leading_pipe: bool) -> Vec<Operator> {
        let mut operators = Vec::new();
        let mut first = true;
        loop {
            if (leading_pipe || !first) && !self.eat(TokenKind::Pipe) {
                break;
            }
            first = false;
            let start = self.peek().span.start;
            let start_token = self.pos;
            match self.parse_operator() {
                Ok(operator) => {
                    operators.push(operator);
                    if !self.at_operator_end() {
                        let token = self.peek();
                        if token.kind != TokenKind::Error {
                            let found = self.describe(token);
                            self.error_with_help(
                                format!("unexpected {found} after the operator"),
                                token.span,
                                "chain another operator with `|`",
                            );
                        }
                        self.recover(true);
                    }
                }
                Err(Failed) => {
                    self.recover_from(start_token, true);
                    operators.push(Operator {
                        kind: OperatorKind::Error,
                        span: self.span_from(start),
                    });
                }
            }
        }
        operators
    }

    /// True when the next tokens start a pipeline with a tabular operator (`union`, `print`, …)
    /// rather than with an expression.
    fn source_operator_start(&self) -> bool {
        let Some(word) = self.peek_word() else {
            return false;
        };
        let next = self.nth_kind(1);
        if matches!(
            next,
            TokenKind::RParen
                | TokenKind::Comma
                | TokenKind::Dot
                | TokenKind::Semicolon
                | TokenKind::Pipe
                | TokenKind::EqEq
                | TokenKind::NotEq
                | TokenKind::Assign
                | TokenKind::RBrace
                | TokenKind::RBracket
                | TokenKind::Eof
        ) {
            return word == "print"
                && !matches!(next, TokenKind::Dot | TokenKind::RParen | TokenKind::Comma);
        }
        match word {
            "union" | "print" | "search" | "find" => true,
            "range" => {
                let len = self.name_len_at(1);
                len > 0 && self.nth_is_word(1 + len, "from")
            }
            "datatable" | "externaldata" => next == TokenKind::LParen,
            "evaluate" => next == TokenKind::Ident,
            _ => false,
        }
    }

    /// `or`-level expression (no pipes).
    pub(super) fn parse_expr(&mut self) -> PResult<Expr> {
        self.enter()?;
        let result = self.parse_or();
        self.leave();
        result
    }

    fn parse_or(&mut self) -> PResult<Expr> {
        let mut left = self.parse_and()?;
        while self.eat_word("or") {
            let right = self.parse_and()?;
            left = binary(BinaryOp::Or, left, right);
        }
        Ok(left)
    }

    fn parse_and(&mut self) -> PResult<Expr> {
        let mut left = self.parse_comparison()?;
        while self.eat_word("and") {
            let right = self.parse_comparison()?;
            left = binary(BinaryOp::And, left, right);
        }
        Ok(left)
    }

    fn parse_comparison(&mut self) -> PResult<Expr> {
        let mut left = self.parse_additive()?;
        loop {
            let token = self.peek();
            let op = match token.kind {
                TokenKind::EqEq => Some(BinaryOp::Eq),
                TokenKind::NotEq | TokenKind::LtGt => Some(BinaryOp::NotEq),
                TokenKind::EqTilde => Some(BinaryOp::EqCi),
                TokenKind::BangTilde => Some(BinaryOp::NotEqCi),
                TokenKind::Lt => Some(BinaryOp::Lt),
                TokenKind::Le => Some(BinaryOp::Le),
                TokenKind::Gt => Some(BinaryOp::Gt),
                TokenKind::Ge => Some(BinaryOp::Ge),
                TokenKind::Colon if self.in_search => Some(BinaryOp::String {
                    predicate: StringPredicate::Has,
                    case_sensitive: false,
                    negated: false,
                }),
                TokenKind::Assign if self.assign_is_equality => {
                    self.diagnostics.push(
                        Diagnostic::warning(
                            "kql::single-equals",
                            "`=` compares here, but `==` is the comparison operator",
                            token.span,
                        )
                        .with_help("write `==` (or `=~` to ignore case)"),
                    );
                    Some(BinaryOp::Eq)
                }
                TokenKind::Ident | TokenKind::BangWord => {
                    let word = self.token_text(token);
                    if let Some(list_op) = list_operator(word) {
                        self.bump();
                        left = self.parse_list_rhs(list_op, left)?;
                        continue;
                    }
                    if word == "between" || word == "!between" {
                        self.bump();
                        left = self.parse_between_rhs(word.starts_with('!'), left)?;
                        continue;
                    }
                    if word == "matches" && self.nth_is_word(1, "regex") {
                        self.bump();
                        Some(BinaryOp::MatchesRegex)
                    } else {
                        string_operator(word)
                    }
                }
                _ => None,
            };
            let Some(op) = op else {
                if token.kind == TokenKind::BangWord {
                    let word = self.token_text(token);
                    return Err(self.error(format!("unknown operator `{word}`"), token.span));
                }
                return Ok(left);
            };
            self.bump();
            let right = self.parse_additive()?;
            left = binary(op, left, right);
        }
    }

    fn parse_list_rhs(&mut self, op: ListOp, left: Expr) -> PResult<Expr> {
        let open = self.peek().span;
        if !self.eat(TokenKind::LParen) {
            return Err(self.unexpected("`(` and a list of values"));
        }
        let mut items = Vec::new();
        loop {
            items.push(self.parse_pipe_expr()?);
            if !self.eat(TokenKind::Comma) {
                break;
            }
        }
        self.expect_closing(TokenKind::RParen, open)?;
        let span = Span::new(left.span.start, self.last_end());
        Ok(Expr::new(
            ExprKind::List {
                op,
                expr: Box::new(left),
                items,
            },
            span,
        ))
    }

    fn parse_between_rhs(&mut self, negated: bool, left: Expr) -> PResult<Expr> {
        let open = self.expect(TokenKind::LParen)?.span;
        let low = self.parse_expr()?;
        self.expect(TokenKind::DotDot)?;
        let high = self.parse_expr()?;
        self.expect_closing(TokenKind::RParen, open)?;
        let span = Span::new(left.span.start, self.last_end());
        Ok(Expr::new(
            ExprKind::Between {
                negated,
                expr: Box::new(left),
                low: Box::new(low),
                high: Box::new(high),
            },
            span,
        ))
    }

    pub(super) fn parse_additive(&mut self) -> PResult<Expr> {
        let mut left = self.parse_multiplicative()?;
        loop {
            let op = match self.peek_kind() {
                TokenKind::Plus => BinaryOp::Add,
                TokenKind::Minus => BinaryOp::Sub,
                _ => return Ok(left),
            };
            self.bump();
            let right = self.parse_multiplicative()?;
            left = binary(op, left, right);
        }
    }

    fn parse_multiplicative(&mut self) -> PResult<Expr> {
        let mut left = self.parse_unary()?;
        loop {
            let op = match self.peek_kind() {
                TokenKind::Star => BinaryOp::Mul,
                TokenKind::Slash => BinaryOp::Div,
                TokenKind::Percent => BinaryOp::Mod,
                _ => return Ok(left),
            };
            self.bump();
            let right = self.parse_unary()?;
            left = binary(op, left, right);
        }
    }

    pub(super) fn parse_unary(&mut self) -> PResult<Expr> {
        let op = match self.peek_kind() {
            TokenKind::Minus => UnaryOp::Negate,
            TokenKind::Plus => UnaryOp::Plus,
            _ => return self.parse_postfix(),
        };
        let minus = self.bump();
        let start = minus.span.start;
        let next = self.peek();
        if op == UnaryOp::Negate
            && next.kind == TokenKind::Long
            && self.token_text(next) == "9223372036854775808"
        {
            // The one long whose magnitude has no positive literal.
            self.bump();
            return Ok(Expr::new(
                ExprKind::Literal {
                    value: Literal::Long { value: i64::MIN },
                },
                self.span_from(start),
            ));
        }
        self.enter()?;
        let operand = self.parse_unary();
        self.leave();
        let operand = operand?;
        let span = Span::new(start, operand.span.end);
        Ok(Expr::new(
            ExprKind::Unary {
                op,
                operand: Box::new(operand),
            },
            span,
        ))
    }

    /// A primary expression followed by member access, indexing and calls.
    pub(super) fn parse_postfix(&mut self) -> PResult<Expr> {
        let mut expr = self.parse_primary()?;
        loop {
            match self.peek_kind() {
                TokenKind::Dot if self.nth_kind(1) == TokenKind::LBracket => {
                    // `a.[0]` and `a.['key']` index like `a[0]` and `a['key']`.
                    self.bump();
                }
                TokenKind::Dot => {
                    self.bump();
                    let name = self.parse_member_name()?;
                    let span = Span::new(expr.span.start, self.last_end());
                    expr = Expr::new(
                        ExprKind::Member {
                            target: Box::new(expr),
                            name,
                        },
                        span,
                    );
                }
                TokenKind::LBracket => {
                    let open = self.bump().span;
                    let index = self.parse_expr()?;
                    self.expect_closing(TokenKind::RBracket, open)?;
                    let span = Span::new(expr.span.start, self.last_end());
                    expr = Expr::new(
                        ExprKind::Index {
                            target: Box::new(expr),
                            index: Box::new(index),
                        },
                        span,
                    );
                }
                TokenKind::LParen if self.is_callable(&expr) => {
                    let args = self.parse_call_args()?;
                    let span = Span::new(expr.span.start, self.last_end());
                    expr = Expr::new(
                        ExprKind::Call {
                            function: Box::new(expr),
                            args,
                        },
                        span,
                    );
                }
                _ => return Ok(expr),
            }
        }
    }

    /// A member name after `.`: any word, including keywords (`d.type`, `x.by`).
    fn parse_member_name(&mut self) -> PResult<Ident> {
        match self.peek_kind() {
            TokenKind::Ident => self.parse_ident("a member name"),
            _ => Err(self.unexpected("a member name")),
        }
    }

    fn is_callable(&self, expr: &Expr) -> bool {
        matches!(expr.kind, ExprKind::Name { .. } | ExprKind::Member { .. })
    }

    /// `(args)` of a call, starting at `(`.
    pub(super) fn parse_call_args(&mut self) -> PResult<Vec<Arg>> {
        let open = self.expect(TokenKind::LParen)?.span;
        let mut args = Vec::new();
        if self.eat(TokenKind::RParen) {
            return Ok(args);
        }
        loop {
            let name = if self.at_name_assign() {
                let name = self.parse_ident("an argument name")?;
                self.bump();
                Some(name)
            } else {
                None
            };
            let value = self.parse_pipe_expr()?;
            args.push(Arg { name, value });
            if !self.eat(TokenKind::Comma) {
                break;
            }
        }
        self.expect_closing(TokenKind::RParen, open)?;
        Ok(args)
    }

    pub(super) fn parse_primary(&mut self) -> PResult<Expr> {
        let token = self.peek();
        let literal = |value: Literal| ExprKind::Literal { value };
        let kind = match token.kind {
            TokenKind::Long => {
                self.bump();
                literal(self.long_literal(token.span)?)
            }
            TokenKind::Real => {
                self.bump();
                literal(Literal::Real {
                    text: self.token_text(token).to_string(),
                })
            }
            TokenKind::Timespan => {
                self.bump();
                literal(Literal::Timespan {
                    text: self.token_text(token).to_string(),
                })
            }
            TokenKind::String => return Ok(self.parse_string_literal()),
            TokenKind::TypedRaw => {
                self.bump();
                literal(self.typed_raw_literal(token.span))
            }
            TokenKind::Template => {
                self.bump();
                let text = self.token_text(token);
                let name = text[2..text.len() - 2].trim().to_string();
                self.diagnostics.push(
                    Diagnostic::warning(
                        "kql::template",
                        format!("`{{{{{name}}}}}` is a rule template placeholder, not KQL"),
                        token.span,
                    )
                    .with_help("give it a value before running the query (quarry hunt fills `{{StartTimeISO}}`-style placeholders)"),
                );
                ExprKind::Template { name }
            }
            TokenKind::Star => {
                self.bump();
                ExprKind::Star
            }
            TokenKind::LParen => {
                let open = self.bump().span;
                let inner = self.parse_pipe_expr()?;
                self.expect_closing(TokenKind::RParen, open)?;
                ExprKind::Paren {
                    inner: Box::new(inner),
                }
            }
            TokenKind::LBracket if self.at_ident() => ExprKind::Name {
                name: self.parse_ident("a name")?,
            },
            TokenKind::Ident => return self.parse_word_primary(),
            _ => return Err(self.unexpected("an expression")),
        };
        Ok(Expr::new(kind, self.span_from(token.span.start)))
    }

    fn parse_word_primary(&mut self) -> PResult<Expr> {
        let token = self.bump();
        let word = self.token_text(token);
        let next = self.peek_kind();
        let kind = match word {
            "true" | "True" | "TRUE" => ExprKind::Literal {
                value: Literal::Bool { value: true },
            },
            "false" | "False" | "FALSE" => ExprKind::Literal {
                value: Literal::Bool { value: false },
            },
            "dynamic" if next == TokenKind::LParen => {
                let open = self.bump().span;
                let value = self.parse_dynamic_value()?;
                self.expect_closing(TokenKind::RParen, open)?;
                ExprKind::Literal {
                    value: Literal::Dynamic { value },
                }
            }
            _ if next == TokenKind::LParen && TOKEN_LITERAL_TYPES.contains(&word) => {
                let open = self.bump().span;
                let mut depth = 1usize;
                let inner_start = self.peek().span.start;
                let mut inner_end = inner_start;
                loop {
                    match self.peek_kind() {
                        TokenKind::LParen => depth += 1,
                        TokenKind::RParen => {
                            depth -= 1;
                            if depth == 0 {
                                break;
                            }
                        }
                        TokenKind::Eof | TokenKind::Pipe | TokenKind::Semicolon => {
                            return self
                                .expect_closing(TokenKind::RParen, open)
                                .and(Err(Failed));
                        }
                        _ => {}
                    }
                    inner_end = self.bump().span.end;
                }
                self.bump();
                let text = self.text[inner_start..inner_end.max(inner_start)].trim();
                if text.is_empty() {
                    return Err(self.error(
                        format!("`{word}()` needs a value, such as `{word}(null)`"),
                        self.span_from(token.span.start),
                    ));
                }
                ExprKind::Literal {
                    value: Literal::Typed {
                        type_name: word.to_string(),
                        text: text.to_string(),
                    },
                }
            }
            _ => ExprKind::Name {
                name: Ident {
                    name: word.to_string(),
                    span: token.span,
                },
            },
        };
        Ok(Expr::new(kind, self.span_from(token.span.start)))
    }

    fn long_literal(&mut self, span: Span) -> PResult<Literal> {
        let text = span.slice(self.text);
        let parsed = match text.strip_prefix("0x").or_else(|| text.strip_prefix("0X")) {
            Some(hex) => i64::from_str_radix(hex, 16)
                .or_else(|_| u64::from_str_radix(hex, 16).map(|v| v as i64)),
            None => text.parse::<i64>(),
        };
        match parsed {
            Ok(value) => Ok(Literal::Long { value }),
            Err(_) => Err(self.error_with_help(
                format!("the integer `{text}` does not fit in a long"),
                span,
                "write it as a real (`1e19`) or use a smaller value",
            )),
        }
    }

    fn typed_raw_literal(&self, span: Span) -> Literal {
        let text = span.slice(self.text);
        let open = text.find('(').unwrap_or(text.len());
        let type_name = text[..open].trim().to_string();
        let inner = text[open..]
            .strip_prefix('(')
            .unwrap_or("")
            .strip_suffix(')')
            .unwrap_or(&text[(open + 1).min(text.len())..]);
        Literal::Typed {
            type_name,
            text: inner.trim().to_string(),
        }
    }

    /// One or more adjacent string tokens, concatenated.
    pub(super) fn parse_string_literal(&mut self) -> Expr {
        let first = self.bump();
        let (mut value, mut obfuscated) = decode_string(self.token_text(first));
        while self.at(TokenKind::String) {
            let token = self.bump();
            let (more, more_obfuscated) = decode_string(self.token_text(token));
            value.push_str(&more);
            obfuscated |= more_obfuscated;
        }
        Expr::new(
            ExprKind::Literal {
                value: Literal::String { value, obfuscated },
            },
            self.span_from(first.span.start),
        )
    }

    /// The content of `dynamic(…)`: JSON-like values with KQL literals.
    fn parse_dynamic_value(&mut self) -> PResult<DynamicValue> {
        self.enter()?;
        let result = self.parse_dynamic_value_inner();
        self.leave();
        result
    }

    fn parse_dynamic_value_inner(&mut self) -> PResult<DynamicValue> {
        let token = self.peek();
        match token.kind {
            TokenKind::LBracket => {
                let open = self.bump().span;
                let mut items = Vec::new();
                while !self.at(TokenKind::RBracket) {
                    items.push(self.parse_dynamic_value()?);
                    if !self.eat(TokenKind::Comma) {
                        break;
                    }
                }
                self.expect_closing(TokenKind::RBracket, open)?;
                Ok(DynamicValue::Array { items })
            }
            TokenKind::LBrace => {
                let open = self.bump().span;
                let mut entries = Vec::new();
                while !self.at(TokenKind::RBrace) {
                    let key_token = self.peek();
                    let key = match key_token.kind {
                        TokenKind::String => decode_string(self.token_text(key_token)).0,
                        _ => return Err(self.unexpected("a quoted property name")),
                    };
                    self.bump();
                    self.expect(TokenKind::Colon)?;
                    entries.push((key, self.parse_dynamic_value()?));
                    if !self.eat(TokenKind::Comma) {
                        break;
                    }
                }
                self.expect_closing(TokenKind::RBrace, open)?;
                Ok(DynamicValue::Object { entries })
            }
            TokenKind::Ident if self.token_text(token) == "null" => {
                self.bump();
                Ok(DynamicValue::Null)
            }
            TokenKind::Minus => {
                self.bump();
                let literal = self.dynamic_scalar()?;
                Ok(DynamicValue::Scalar {
                    literal: Box::new(literal),
                    negative: true,
                })
            }
            _ => {
                let literal = self.dynamic_scalar()?;
                Ok(DynamicValue::Scalar {
                    literal: Box::new(literal),
                    negative: false,
                })
            }
        }
    }

    fn dynamic_scalar(&mut self) -> PResult<Literal> {
        let expr = match self.peek_kind() {
            TokenKind::Long
            | TokenKind::Real
            | TokenKind::Timespan
            | TokenKind::String
            | TokenKind::TypedRaw
            | TokenKind::Ident => self.parse_primary()?,
            _ => return Err(self.unexpected("a value")),
        };
        match expr.kind {
            ExprKind::Literal { value } => Ok(value),
            _ => Err(self.error("expected a constant value inside `dynamic(…)`", expr.span)),
        }
    }
}
