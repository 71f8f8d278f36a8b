//! Statements: `let`, `declare query_parameters`, `set`, `alias` and the query statement, plus
//! function definitions and their parameters.

use super::{Failed, PResult, Parser};
use crate::ast::{ColumnDecl, FunctionDef, LetValue, Parameter, ParameterType, Statement};
use crate::span::Span;
use crate::token::TokenKind;

impl<'a> Parser<'a> {
    /// Parses statements up to the end of input, or up to the closing `}` of a function body.
    pub(super) fn parse_statements(&mut self, in_body: bool) -> Vec<Statement> {
        let mut statements = Vec::new();
        loop {
            while self.eat(TokenKind::Semicolon) {}
            match self.peek_kind() {
                TokenKind::Eof => break,
                TokenKind::RBrace if in_body => break,
                _ => {}
            }
            let before = self.pos;
            match self.parse_statement() {
                Ok(statement) => statements.push(statement),
                Err(Failed) => self.recover_from(before, false),
            }
            match self.peek_kind() {
                TokenKind::Semicolon | TokenKind::Eof => {}
                TokenKind::RBrace if in_body => {}
                _ => {
                    let token = self.peek();
                    let found = self.describe(token);
                    if token.kind != TokenKind::Error {
                        self.error_with_help(
                            format!("unexpected {found} after the end of the statement"),
                            token.span,
                            "statements are separated by `;`; operators are chained with `|`",
                        );
                    }
                    self.recover(false);
                    let stray_closer = match self.peek_kind() {
                        TokenKind::RParen | TokenKind::RBracket => true,
                        TokenKind::RBrace => !in_body,
                        _ => false,
                    };
                    if stray_closer || self.pos == before {
                        // Step over it so that parsing goes on after it.
                        self.bump();
                    }
                }
            }
        }
        statements
    }

    fn parse_statement(&mut self) -> PResult<Statement> {
        let start = self.peek().span.start;
        match self.peek_word() {
            Some("let") if self.name_len_at(1) > 0 => {
                self.bump();
                let name = self.parse_ident("a name after `let`")?;
                self.expect(TokenKind::Assign)?;
                let value = self.parse_let_value()?;
                Ok(Statement::Let {
                    name,
                    value,
                    span: self.span_from(start),
                })
            }
            Some("declare") if self.nth_is_word(1, "query_parameters") => {
                self.bump();
                self.bump();
                let open = self.expect(TokenKind::LParen)?.span;
                let parameters = self.parse_parameter_list(open)?;
                Ok(Statement::DeclareQueryParameters {
                    parameters,
                    span: self.span_from(start),
                })
            }
            Some("set") if matches!(self.nth_kind(1), TokenKind::Ident) => {
                self.bump();
                let name = self.parse_dotted_name("an option name after `set`")?;
                let value = if self.eat(TokenKind::Assign) {
                    Some(self.parse_expr()?)
                } else {
                    None
                };
                Ok(Statement::Set {
                    name,
                    value,
                    span: self.span_from(start),
                })
            }
            Some("alias") if self.nth_is_word(1, "database") => {
                self.bump();
                self.bump();
                let name = self.parse_ident("an alias name")?;
                self.expect(TokenKind::Assign)?;
                let value = self.parse_expr()?;
                Ok(Statement::Alias {
                    name,
                    value,
                    span: self.span_from(start),
                })
            }
            Some("declare") if self.nth_is_word(1, "pattern") => {
                let span = self.peek().span.to(self.nth(1).span);
                Err(self.error("the `declare pattern` statement is not supported", span))
            }
            Some(word @ ("restrict" | "pattern"))
                if matches!(self.nth_kind(1), TokenKind::Ident) =>
            {
                let span = self.peek().span;
                Err(self.error(format!("the `{word}` statement is not supported"), span))
            }
            _ => Ok(Statement::Query(self.parse_pipe_expr()?)),
        }
    }

    /// A possibly dotted name such as `querytrace` or `query_now`, joined with dots.
    fn parse_dotted_name(&mut self, what: &str) -> PResult<crate::ast::Ident> {
        let mut ident = self.parse_ident(what)?;
        while self.at(TokenKind::Dot) && self.nth_kind(1) == TokenKind::Ident {
            self.bump();
            let part = self.parse_ident(what)?;
            ident.name.push('.');
            ident.name.push_str(&part.name);
            ident.span = ident.span.to(part.span);
        }
        Ok(ident)
    }

    fn parse_let_value(&mut self) -> PResult<LetValue> {
        if self.at_word("view") && self.nth_kind(1) == TokenKind::LParen {
            self.bump();
            return Ok(LetValue::View {
                function: self.parse_function_def()?,
            });
        }
        if self.at_function_def() {
            return Ok(LetValue::Function {
                function: self.parse_function_def()?,
            });
        }
        Ok(LetValue::Expr {
            expr: self.parse_pipe_expr()?,
        })
    }

    /// `(` followed by `)` `{`, or by `name:` — a function literal rather than a parenthesis.
    fn at_function_def(&self) -> bool {
        if !self.at(TokenKind::LParen) {
            return false;
        }
        match self.nth_kind(1) {
            TokenKind::RParen => self.nth_kind(2) == TokenKind::LBrace,
            _ => {
                let len = self.name_len_at(1);
                len > 0 && self.nth_kind(1 + len) == TokenKind::Colon
            }
        }
    }

    fn parse_function_def(&mut self) -> PResult<FunctionDef> {
        let open = self.expect(TokenKind::LParen)?.span;
        let parameters = self.parse_parameter_list(open)?;
        let brace = self.peek().span;
        self.expect(TokenKind::LBrace)?;
        self.enter()?;
        let body = self.parse_statements(true);
        self.leave();
        self.expect_closing(TokenKind::RBrace, brace)?;
        Ok(FunctionDef {
            parameters,
            body,
            span: self.span_from(open.start),
        })
    }

    /// Parameters after an already consumed `(`, through the closing `)`.
    fn parse_parameter_list(&mut self, open: Span) -> PResult<Vec<Parameter>> {
        let mut parameters = Vec::new();
        if self.eat(TokenKind::RParen) {
            return Ok(parameters);
        }
        loop {
            let start = self.peek().span.start;
            let name = self.parse_ident("a parameter name")?;
            self.expect(TokenKind::Colon)?;
            let ty = if self.at(TokenKind::LParen) {
                let open = self.bump().span;
                let (columns, open_schema) = self.parse_column_decls(open, true)?;
                ParameterType::Tabular {
                    columns,
                    open: open_schema,
                }
            } else {
                ParameterType::Scalar {
                    name: self.parse_ident("a type name")?,
                }
            };
            let default = if self.eat(TokenKind::Assign) {
                Some(self.parse_expr()?)
            } else {
                None
            };
            parameters.push(Parameter {
                name,
                ty,
                default,
                span: self.span_from(start),
            });
            if !self.eat(TokenKind::Comma) {
                break;
            }
        }
        self.expect_closing(TokenKind::RParen, open)?;
        Ok(parameters)
    }

    /// `name:type, …` after an already consumed `(`, through the closing `)`. With `allow_star`,
    /// a `*` entry marks the schema as open.
    pub(super) fn parse_column_decls(
        &mut self,
        open: Span,
        allow_star: bool,
    ) -> PResult<(Vec<ColumnDecl>, bool)> {
        let mut columns = Vec::new();
        let mut open_schema = false;
        if self.eat(TokenKind::RParen) {
            return Ok((columns, open_schema));
        }
        loop {
            if allow_star && self.eat(TokenKind::Star) {
                open_schema = true;
            } else {
                columns.push(self.parse_column_decl()?);
            }
            // A trailing comma before `)` is tolerated, as Kusto does.
            if !self.eat(TokenKind::Comma) || self.at(TokenKind::RParen) {
                break;
            }
        }
        self.expect_closing(TokenKind::RParen, open)?;
        Ok((columns, open_schema))
    }

    pub(super) fn parse_column_decl(&mut self) -> PResult<ColumnDecl> {
        let start = self.peek().span.start;
        let name = self.parse_ident("a column name")?;
        self.expect(TokenKind::Colon)?;
        let ty = self.parse_ident("a type name")?;
        Ok(ColumnDecl {
            name,
            ty,
            span: self.span_from(start),
        })
    }
}
