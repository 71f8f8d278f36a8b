//! Tabular operators: what follows `|`, and the operators that start a pipeline.

use super::{suggest, PResult, Parser};
use crate::ast::{
    ColumnExpr, ExpandItem, Expr, ExprKind, FindProject, ForkBranch, Ident, NullsOrder, Operator,
    OperatorKind, OperatorParam, ParsePart, PartitionBody, Rename, ReorderColumn, ScanDeclaration,
    ScanStep, SeriesAggregate, SeriesRange, SortKey, SortOrder, TopNestedLevel, UnaryOp,
};
use crate::lexer::decode_string;
use crate::token::TokenKind;

/// Every operator name the parser knows after `|`, for "did you mean" suggestions.
const OPERATOR_NAMES: &[&str] = &[
    "where",
    "filter",
    "project",
    "project-away",
    "project-keep",
    "project-rename",
    "project-reorder",
    "extend",
    "summarize",
    "count",
    "distinct",
    "take",
    "limit",
    "top",
    "top-nested",
    "top-hitters",
    "sort",
    "order",
    "join",
    "lookup",
    "union",
    "mv-expand",
    "mvexpand",
    "mv-apply",
    "parse",
    "parse-where",
    "parse-kv",
    "make-series",
    "evaluate",
    "invoke",
    "as",
    "serialize",
    "render",
    "getschema",
    "search",
    "find",
    "fork",
    "facet",
    "partition",
    "scan",
    "sample",
    "sample-distinct",
    "reduce",
    "consume",
];

/// Share of the nesting budget one operator takes: an operator's parse uses several times the
/// stack of an expression level.
const OPERATOR_DEPTH_WEIGHT: usize = 4;

/// Operators of the language that Quarry does not parse yet.
const UNSUPPORTED_OPERATORS: &[&str] = &[
    "project-smart",
    "project-by-names",
    "make-graph",
    "graph-match",
    "graph-merge",
    "graph-to-table",
    "graph-shortest-paths",
    "graph-mark-components",
    "execute-and-cache",
    "assert-schema",
    "macro-expand",
];

impl<'a> Parser<'a> {
    /// An operator after `|` (or the first operator of a subquery).
    pub(super) fn parse_operator(&mut self) -> PResult<Operator> {
        self.enter_weighted(OPERATOR_DEPTH_WEIGHT)?;
        let result = self.parse_operator_inner();
        self.leave_weighted(OPERATOR_DEPTH_WEIGHT);
        result
    }

    fn parse_operator_inner(&mut self) -> PResult<Operator> {
        let token = self.peek();
        let start = token.span.start;
        let Some(word) = self.peek_word() else {
            return Err(self.unexpected("a tabular operator"));
        };
        self.bump();
        let kind = match word {
            "where" | "filter" => {
                let saved = std::mem::replace(&mut self.assign_is_equality, true);
                let predicate = self.parse_expr();
                self.assign_is_equality = saved;
                OperatorKind::Where {
                    predicate: predicate?,
                }
            }
            "project" => OperatorKind::Project {
                columns: self.parse_column_exprs()?,
            },
            "project-away" => OperatorKind::ProjectAway {
                columns: self.parse_name_patterns()?,
            },
            "project-keep" => OperatorKind::ProjectKeep {
                columns: self.parse_name_patterns()?,
            },
            "project-rename" => self.parse_project_rename()?,
            "project-reorder" => self.parse_project_reorder()?,
            "extend" => OperatorKind::Extend {
                columns: self.parse_column_exprs()?,
            },
            "summarize" => self.parse_summarize()?,
            "count" => OperatorKind::Count {
                name: if self.eat_word("as") {
                    Some(self.parse_ident("a column name")?)
                } else {
                    None
                },
            },
            "distinct" => OperatorKind::Distinct {
                params: self.parse_params(&[])?,
                columns: self.parse_comma_list(Self::parse_expr)?,
            },
            "take" | "limit" => {
                self.parse_params(&[])?;
                OperatorKind::Take {
                    count: self.parse_expr()?,
                }
            }
            "top" => {
                let count = self.parse_expr()?;
                self.expect_word("by")?;
                OperatorKind::Top {
                    count,
                    by: self.parse_sort_keys()?,
                }
            }
            "top-nested" => self.parse_top_nested()?,
            "top-hitters" => {
                let count = self.parse_expr()?;
                self.expect_word("of")?;
                let of = self.parse_expr()?;
                let by = if self.eat_word("by") {
                    Some(self.parse_expr()?)
                } else {
                    None
                };
                OperatorKind::TopHitters { count, of, by }
            }
            "sort" | "order" => {
                let params = self.parse_params(&[])?;
                self.expect_word("by")?;
                OperatorKind::Sort {
                    params,
                    by: self.parse_sort_keys()?,
                }
            }
            "join" | "lookup" => self.parse_join(word == "lookup")?,
            "union" => self.parse_union()?,
            "mv-expand" | "mvexpand" => self.parse_mv_expand()?,
            "mv-apply" | "mvapply" => self.parse_mv_apply()?,
            "parse" | "parse-where" => self.parse_parse(word == "parse-where")?,
            "parse-kv" => self.parse_parse_kv()?,
            "make-series" => self.parse_make_series()?,
            "evaluate" => self.parse_evaluate()?,
            "invoke" => OperatorKind::Invoke {
                call: self.parse_call("a function call after `invoke`")?,
            },
            "as" => OperatorKind::As {
                params: self.parse_params(&[])?,
                name: self.parse_ident("a name after `as`")?,
            },
            "serialize" => OperatorKind::Serialize {
                columns: if self.at_operator_end() {
                    Vec::new()
                } else {
                    self.parse_column_exprs()?
                },
            },
            "render" => self.parse_render()?,
            "getschema" => OperatorKind::GetSchema,
            "search" => self.parse_search()?,
            "find" => self.parse_find()?,
            "fork" => self.parse_fork()?,
            "facet" => self.parse_facet()?,
            "partition" => self.parse_partition()?,
            "scan" => self.parse_scan()?,
            "sample" => OperatorKind::Sample {
                count: self.parse_expr()?,
            },
            "sample-distinct" => {
                let count = self.parse_expr()?;
                self.expect_word("of")?;
                OperatorKind::SampleDistinct {
                    count,
                    of: self.parse_expr()?,
                }
            }
            "reduce" => {
                let params = self.parse_params(&["kind"])?;
                self.expect_word("by")?;
                let by = self.parse_expr()?;
                let options = if self.eat_word("with") {
                    self.parse_any_params()?
                } else {
                    Vec::new()
                };
                OperatorKind::Reduce {
                    params,
                    by,
                    options,
                }
            }
            "consume" => OperatorKind::Consume {
                params: self.parse_params(&["decodeblocks"])?,
            },
            "print" | "range" | "datatable" | "externaldata" => {
                return Err(self.error_with_help(
                    format!("`{word}` starts a query and cannot follow `|`"),
                    token.span,
                    format!("use `{word}` at the beginning of a query or inside `union`"),
                ));
            }
            _ if UNSUPPORTED_OPERATORS.contains(&word) => {
                return Err(self.error(
                    format!("the `{word}` operator is not supported"),
                    token.span,
                ));
            }
            _ => {
                let message = format!("unknown tabular operator `{word}`");
                return Err(match suggest(word, OPERATOR_NAMES) {
                    Some(best) => {
                        self.error_with_help(message, token.span, format!("did you mean `{best}`?"))
                    }
                    None => self.error(message, token.span),
                });
            }
        };
        Ok(Operator {
            kind,
            span: self.span_from(start),
        })
    }

    /// An operator that starts a pipeline (`union`, `print`, `range`, `datatable`,
    /// `externaldata`, `search`, `find`, `evaluate`).
    pub(super) fn parse_source_operator(&mut self) -> PResult<Operator> {
        let token = self.peek();
        let start = token.span.start;
        let word = self.token_text(token);
        let kind = match word {
            "union" | "search" | "find" | "evaluate" => return self.parse_operator(),
            "print" => {
                self.bump();
                OperatorKind::Print {
                    columns: if self.at_operator_end() {
                        Vec::new()
                    } else {
                        self.parse_column_exprs()?
                    },
                }
            }
            "range" => {
                self.bump();
                let name = self.parse_ident("a column name")?;
                self.expect_word("from")?;
                let from = self.parse_expr()?;
                self.expect_word("to")?;
                let to = self.parse_expr()?;
                self.expect_word("step")?;
                let step = self.parse_expr()?;
                OperatorKind::Range {
                    name,
                    from,
                    to,
                    step,
                }
            }
            "datatable" => {
                self.bump();
                let open = self.expect(TokenKind::LParen)?.span;
                let (columns, _) = self.parse_column_decls(open, false)?;
                let values = self.parse_bracket_list()?;
                OperatorKind::DataTable { columns, values }
            }
            _ => {
                // externaldata
                self.bump();
                let open = self.expect(TokenKind::LParen)?.span;
                let (columns, _) = self.parse_column_decls(open, false)?;
                let uris = self.parse_bracket_list()?;
                let properties = if self.eat_word("with") {
                    self.parse_any_params()?
                } else {
                    Vec::new()
                };
                OperatorKind::ExternalData {
                    columns,
                    uris,
                    properties,
                }
            }
        };
        Ok(Operator {
            kind,
            span: self.span_from(start),
        })
    }

    /// `[a, b, …]` with an optional trailing comma.
    fn parse_bracket_list(&mut self) -> PResult<Vec<Expr>> {
        let open = self.expect(TokenKind::LBracket)?.span;
        let mut values = Vec::new();
        // Kusto tolerates empty slots (`[, "a", "b",]`), which real parsers contain.
        while self.eat(TokenKind::Comma) {}
        while !self.at(TokenKind::RBracket) {
            values.push(self.parse_expr()?);
            if !self.eat(TokenKind::Comma) {
                break;
            }
            while self.eat(TokenKind::Comma) {}
        }
        self.expect_closing(TokenKind::RBracket, open)?;
        Ok(values)
    }

    fn parse_comma_list<T>(&mut self, item: fn(&mut Self) -> PResult<T>) -> PResult<Vec<T>> {
        let mut items = vec![item(self)?];
        while self.eat(TokenKind::Comma) {
            items.push(item(self)?);
        }
        Ok(items)
    }

    /// `name=value` parameters before an operator's arguments. Names starting with `hint.` are
    /// always accepted; others only when listed in `names`.
    fn parse_params(&mut self, names: &[&str]) -> PResult<Vec<OperatorParam>> {
        let mut params = Vec::new();
        loop {
            let is_hint = self.at_word("hint")
                && self.nth_kind(1) == TokenKind::Dot
                && self.nth_kind(2) == TokenKind::Ident
                && self.nth_kind(3) == TokenKind::Assign;
            let is_named = !is_hint
                && self.nth_kind(1) == TokenKind::Assign
                && self.peek_word().is_some_and(|w| names.contains(&w));
            if !is_hint && !is_named {
                return Ok(params);
            }
            params.push(self.parse_param()?);
        }
    }

    /// One `name=value` (the name may be dotted, as in `hint.strategy`).
    fn parse_param(&mut self) -> PResult<OperatorParam> {
        let mut name = self.parse_ident("a parameter name")?;
        while self.at(TokenKind::Dot) {
            self.bump();
            let part = self.parse_ident("a parameter name")?;
            name.name.push('.');
            name.name.push_str(&part.name);
            name.span = name.span.to(part.span);
        }
        self.expect(TokenKind::Assign)?;
        // A bare word, or a literal (possibly a negative number). A word is never a call here:
        // in `join kind=inner (T)` the parenthesis is the join's right side.
        let value = match self.peek_kind() {
            _ if self.at_ident() => {
                let name = self.parse_ident("a value")?;
                let span = name.span;
                Expr::new(ExprKind::Name { name }, span)
            }
            TokenKind::Minus | TokenKind::Plus => {
                let sign = self.bump();
                let operand = self.parse_param_literal()?;
                let span = sign.span.to(operand.span);
                let op = match sign.kind {
                    TokenKind::Minus => UnaryOp::Negate,
                    _ => UnaryOp::Plus,
                };
                Expr::new(
                    ExprKind::Unary {
                        op,
                        operand: Box::new(operand),
                    },
                    span,
                )
            }
            _ => self.parse_param_literal()?,
        };
        Ok(OperatorParam { name, value })
    }

    /// A literal parameter value; never followed by indexing or a call, since what follows a
    /// parameter is the operator's own arguments.
    fn parse_param_literal(&mut self) -> PResult<Expr> {
        match self.peek_kind() {
            TokenKind::Long
            | TokenKind::Real
            | TokenKind::Timespan
            | TokenKind::String
            | TokenKind::TypedRaw => self.parse_primary(),
            _ => Err(self.unexpected("a parameter value")),
        }
    }

    /// `(name=value, …)` or `name=value, …` with any names, as in `with (format="csv")`.
    fn parse_any_params(&mut self) -> PResult<Vec<OperatorParam>> {
        let open = self.at(TokenKind::LParen).then(|| self.bump().span);
        let mut params = Vec::new();
        if open.is_none() || !self.at(TokenKind::RParen) {
            loop {
                params.push(self.parse_param()?);
                if !self.eat(TokenKind::Comma) {
                    break;
                }
            }
        }
        if let Some(open) = open {
            self.expect_closing(TokenKind::RParen, open)?;
        }
        Ok(params)
    }

    /// `expr`, `Name = expr` or `(A, B) = expr`.
    fn parse_column_expr(&mut self) -> PResult<ColumnExpr> {
        let start = self.peek().span.start;
        let mut names = Vec::new();
        if self.at_name_assign() {
            names.push(self.parse_ident("a column name")?);
            self.bump();
        } else if self.at_tuple_assignment() {
            self.bump();
            loop {
                names.push(self.parse_ident("a column name")?);
                if !self.eat(TokenKind::Comma) {
                    break;
                }
            }
            self.expect(TokenKind::RParen)?;
            self.expect(TokenKind::Assign)?;
        }
        let expr = self.parse_expr()?;
        Ok(ColumnExpr {
            names,
            expr,
            span: self.span_from(start),
        })
    }

    /// `(A, B, …) =` ahead.
    fn at_tuple_assignment(&self) -> bool {
        if !self.at(TokenKind::LParen) {
            return false;
        }
        let mut n = 1;
        loop {
            let len = self.name_len_at(n);
            if len == 0 {
                return false;
            }
            match self.nth_kind(n + len) {
                TokenKind::Comma => n += len + 1,
                TokenKind::RParen => return self.nth_kind(n + len + 1) == TokenKind::Assign,
                _ => return false,
            }
        }
    }

    fn parse_column_exprs(&mut self) -> PResult<Vec<ColumnExpr>> {
        self.parse_comma_list(Self::parse_column_expr)
    }

    /// A column name, or a name pattern with `*` wildcards written without spaces (`Col*`).
    fn parse_name_pattern(&mut self) -> PResult<Expr> {
        let first = self.peek();
        if !matches!(first.kind, TokenKind::Ident | TokenKind::Star) && !self.at_ident() {
            return Err(self.unexpected("a column name"));
        }
        if first.kind == TokenKind::LBracket {
            let name = self.parse_ident("a column name")?;
            let span = name.span;
            return Ok(Expr::new(ExprKind::Name { name }, span));
        }
        let mut text = String::new();
        let mut wildcard = false;
        loop {
            let token = self.peek();
            let glued = text.is_empty() || !token.space_before;
            match token.kind {
                TokenKind::Ident if glued => text.push_str(self.token_text(token)),
                TokenKind::Star if glued => {
                    wildcard = true;
                    text.push('*');
                }
                _ => break,
            }
            self.bump();
        }
        let span = self.span_from(first.span.start);
        Ok(match wildcard {
            true => Expr::new(ExprKind::Pattern { pattern: text }, span),
            false => Expr::new(
                ExprKind::Name {
                    name: Ident { name: text, span },
                },
                span,
            ),
        })
    }

    fn parse_name_patterns(&mut self) -> PResult<Vec<Expr>> {
        self.parse_comma_list(Self::parse_name_pattern)
    }

    fn parse_project_rename(&mut self) -> PResult<OperatorKind> {
        let renames = self.parse_comma_list(|p| {
            let new_name = p.parse_ident("a new column name")?;
            p.expect(TokenKind::Assign)?;
            let source = p.parse_expr()?;
            Ok(Rename { new_name, source })
        })?;
        Ok(OperatorKind::ProjectRename { renames })
    }

    fn parse_project_reorder(&mut self) -> PResult<OperatorKind> {
        let columns = self.parse_comma_list(|p| {
            let column = p.parse_name_pattern()?;
            let order = match p.peek_word() {
                Some("asc" | "desc" | "granny-asc" | "granny-desc") => {
                    Some(p.parse_ident("an order")?)
                }
                _ => None,
            };
            Ok(ReorderColumn { column, order })
        })?;
        Ok(OperatorKind::ProjectReorder { columns })
    }

    fn parse_summarize(&mut self) -> PResult<OperatorKind> {
        let params = self.parse_params(&[])?;
        let aggregates = if self.at_word("by") || self.at_operator_end() {
            Vec::new()
        } else {
            self.parse_column_exprs()?
        };
        let by = if self.eat_word("by") {
            self.parse_column_exprs()?
        } else {
            Vec::new()
        };
        if aggregates.is_empty() && by.is_empty() {
            return Err(self.unexpected("an aggregate such as `count()` or `by`"));
        }
        Ok(OperatorKind::Summarize {
            params,
            aggregates,
            by,
        })
    }

    fn parse_sort_keys(&mut self) -> PResult<Vec<SortKey>> {
        self.parse_comma_list(|p| {
            let expr = p.parse_expr()?;
            let order = if p.eat_word("asc") {
                Some(SortOrder::Asc)
            } else if p.eat_word("desc") {
                Some(SortOrder::Desc)
            } else {
                None
            };
            let nulls = if p.eat_word("nulls") {
                if p.eat_word("first") {
                    Some(NullsOrder::First)
                } else {
                    p.expect_word("last")?;
                    Some(NullsOrder::Last)
                }
            } else {
                None
            };
            Ok(SortKey { expr, order, nulls })
        })
    }

    fn parse_top_nested(&mut self) -> PResult<OperatorKind> {
        let mut levels = Vec::new();
        loop {
            let count = if self.at_word("of") {
                None
            } else {
                Some(self.parse_expr()?)
            };
            self.expect_word("of")?;
            let of = self.parse_column_expr()?;
            let others = if self.at_word("with") && self.nth_is_word(1, "others") {
                self.bump();
                self.bump();
                self.expect(TokenKind::Assign)?;
                Some(self.parse_expr()?)
            } else {
                None
            };
            self.expect_word("by")?;
            let by = self.parse_column_expr()?;
            let order = if self.eat_word("asc") {
                Some(SortOrder::Asc)
            } else if self.eat_word("desc") {
                Some(SortOrder::Desc)
            } else {
                None
            };
            levels.push(TopNestedLevel {
                count,
                of,
                others,
                by,
                order,
            });
            if self.at(TokenKind::Comma) && self.nth_is_word(1, "top-nested") {
                self.bump();
                self.bump();
            } else {
                break;
            }
        }
        Ok(OperatorKind::TopNested { levels })
    }

    /// The right side of `join`/`lookup`: a parenthesised query or a table expression.
    fn parse_table_operand(&mut self) -> PResult<Expr> {
        self.parse_postfix()
    }

    fn parse_join(&mut self, lookup: bool) -> PResult<OperatorKind> {
        let params = self.parse_params(&["kind"])?;
        let right = self.parse_table_operand()?;
        // Kusto accepts a join without `on` (it then joins on the common columns).
        let on = if lookup || self.at_word("on") {
            self.expect_word("on")?;
            self.parse_comma_list(Self::parse_expr)?
        } else {
            Vec::new()
        };
        Ok(match lookup {
            true => OperatorKind::Lookup { params, right, on },
            false => OperatorKind::Join { params, right, on },
        })
    }

    fn parse_union(&mut self) -> PResult<OperatorKind> {
        let params = self.parse_params(&["kind", "withsource", "isfuzzy"])?;
        let tables = self.parse_comma_list(Self::parse_union_table)?;
        Ok(OperatorKind::Union { params, tables })
    }

    /// A table of `union`, `search in`, `find in`: a name, a pattern, a call or a subquery.
    fn parse_union_table(&mut self) -> PResult<Expr> {
        let token = self.peek();
        let pattern_ahead = match token.kind {
            TokenKind::Star => true,
            TokenKind::Ident => {
                let next = self.nth(1);
                next.kind == TokenKind::Star && !next.space_before
            }
            _ => false,
        };
        if pattern_ahead {
            self.parse_name_pattern()
        } else {
            self.parse_postfix()
        }
    }

    fn parse_expand_items(&mut self) -> PResult<Vec<ExpandItem>> {
        self.parse_comma_list(|p| {
            let name = if p.at_name_assign() {
                let name = p.parse_ident("a column name")?;
                p.bump();
                Some(name)
            } else {
                None
            };
            let expr = p.parse_expr()?;
            let to_type = if p.eat_word("to") {
                p.expect_word("typeof")?;
                let open = p.expect(TokenKind::LParen)?.span;
                let ty = p.parse_ident("a type name")?;
                p.expect_closing(TokenKind::RParen, open)?;
                Some(ty)
            } else {
                None
            };
            Ok(ExpandItem {
                name,
                expr,
                to_type,
            })
        })
    }

    fn parse_limit(&mut self) -> PResult<Option<Expr>> {
        if self.eat_word("limit") {
            Ok(Some(self.parse_expr()?))
        } else {
            Ok(None)
        }
    }

    fn parse_mv_expand(&mut self) -> PResult<OperatorKind> {
        let params = self.parse_params(&["bagexpansion", "with_itemindex", "kind"])?;
        let items = self.parse_expand_items()?;
        let limit = self.parse_limit()?;
        Ok(OperatorKind::MvExpand {
            params,
            items,
            limit,
        })
    }

    fn parse_mv_apply(&mut self) -> PResult<OperatorKind> {
        let params = self.parse_params(&["with_itemindex", "bagexpansion"])?;
        let items = self.parse_expand_items()?;
        let limit = self.parse_limit()?;
        self.expect_word("on")?;
        let subquery = self.parse_subquery()?;
        Ok(OperatorKind::MvApply {
            params,
            items,
            limit,
            subquery,
        })
    }

    /// `( operator | operator … )`: operators applied to an implicit input.
    fn parse_subquery(&mut self) -> PResult<Vec<Operator>> {
        let (close, open) = match self.peek_kind() {
            TokenKind::LBrace => (TokenKind::RBrace, self.bump().span),
            _ => (TokenKind::RParen, self.expect(TokenKind::LParen)?.span),
        };
        self.enter()?;
        let operators = self.parse_operator_chain(false);
        self.leave();
        self.expect_closing(close, open)?;
        Ok(operators)
    }

    fn parse_parse(&mut self, filter: bool) -> PResult<OperatorKind> {
        let params = self.parse_params(&["kind", "flags"])?;
        let source = self.parse_expr()?;
        self.expect_word("with")?;
        let mut pattern = Vec::new();
        while !self.at_operator_end() {
            let token = self.peek();
            match token.kind {
                TokenKind::String => {
                    let literal = self.parse_string_literal();
                    let value = match literal.kind {
                        ExprKind::Literal {
                            value: crate::ast::Literal::String { value, .. },
                        } => value,
                        _ => decode_string(self.token_text(token)).0,
                    };
                    pattern.push(ParsePart::Text {
                        value,
                        span: literal.span,
                    });
                }
                TokenKind::Star => {
                    self.bump();
                    pattern.push(ParsePart::Wildcard { span: token.span });
                }
                _ if self.at_ident() => {
                    let name = self.parse_ident("a column name")?;
                    let ty = if self.eat(TokenKind::Colon) {
                        Some(self.parse_ident("a type name")?)
                    } else {
                        None
                    };
                    pattern.push(ParsePart::Column { name, ty });
                }
                _ => return Err(self.unexpected("a string, `*` or a column in the pattern")),
            }
        }
        if pattern.is_empty() {
            return Err(self.unexpected("a pattern after `with`"));
        }
        Ok(OperatorKind::Parse {
            filter,
            params,
            source,
            pattern,
        })
    }

    fn parse_parse_kv(&mut self) -> PResult<OperatorKind> {
        let source = self.parse_expr()?;
        self.expect_word("as")?;
        let open = self.expect(TokenKind::LParen)?.span;
        let (columns, _) = self.parse_column_decls(open, false)?;
        let options = if self.eat_word("with") {
            self.parse_any_params()?
        } else {
            Vec::new()
        };
        Ok(OperatorKind::ParseKv {
            source,
            columns,
            options,
        })
    }

    fn parse_make_series(&mut self) -> PResult<OperatorKind> {
        let params = self.parse_params(&["kind"])?;
        let aggregates = self.parse_comma_list(|p| {
            let column = p.parse_column_expr()?;
            let default = if p.at_word("default") && p.nth_kind(1) == TokenKind::Assign {
                p.bump();
                p.bump();
                Some(p.parse_expr()?)
            } else {
                None
            };
            Ok(SeriesAggregate { column, default })
        })?;
        self.expect_word("on")?;
        let on = self.parse_additive()?;
        let range = if self.eat_word("in") {
            self.expect_word("range")?;
            let open = self.expect(TokenKind::LParen)?.span;
            let start = self.parse_expr()?;
            self.expect(TokenKind::Comma)?;
            let stop = self.parse_expr()?;
            self.expect(TokenKind::Comma)?;
            let step = self.parse_expr()?;
            self.expect_closing(TokenKind::RParen, open)?;
            SeriesRange::InRange { start, stop, step }
        } else {
            let from = if self.eat_word("from") {
                Some(self.parse_expr()?)
            } else {
                None
            };
            let to = if self.eat_word("to") {
                Some(self.parse_expr()?)
            } else {
                None
            };
            self.expect_word("step")?;
            SeriesRange::FromTo {
                from,
                to,
                step: self.parse_expr()?,
            }
        };
        let by = if self.eat_word("by") {
            self.parse_column_exprs()?
        } else {
            Vec::new()
        };
        Ok(OperatorKind::MakeSeries {
            params,
            aggregates,
            on,
            range,
            by,
        })
    }

    /// A function call expression (for `invoke` and `evaluate`).
    fn parse_call(&mut self, what: &str) -> PResult<Expr> {
        if !self.at_ident() {
            return Err(self.unexpected(what));
        }
        let call = self.parse_postfix()?;
        match call.kind {
            ExprKind::Call { .. } => Ok(call),
            _ => Err(self.error(format!("expected {what}"), call.span)),
        }
    }

    fn parse_evaluate(&mut self) -> PResult<OperatorKind> {
        let params = self.parse_params(&[])?;
        let plugin = self.parse_call("a plugin call such as `bag_unpack(Column)`")?;
        let (schema, schema_open) = if self.at(TokenKind::Colon) {
            self.bump();
            let open = self.expect(TokenKind::LParen)?.span;
            let (columns, open_schema) = self.parse_column_decls(open, true)?;
            (Some(columns), open_schema)
        } else {
            (None, false)
        };
        Ok(OperatorKind::Evaluate {
            params,
            plugin,
            schema,
            schema_open,
        })
    }

    fn parse_render(&mut self) -> PResult<OperatorKind> {
        let chart = self.parse_ident("a chart type such as `timechart`")?;
        let mut properties = if self.eat_word("with") {
            self.parse_any_params()?
        } else {
            Vec::new()
        };
        // Older spelling: properties written without `with (…)`.
        while self.at(TokenKind::Ident) && self.nth_kind(1) == TokenKind::Assign {
            properties.push(self.parse_param()?);
        }
        Ok(OperatorKind::Render { chart, properties })
    }

    /// `in (T1, T2)` of `search` and `find`.
    fn parse_in_tables(&mut self) -> PResult<Vec<Expr>> {
        if !(self.at_word("in") && self.nth_kind(1) == TokenKind::LParen) {
            return Ok(Vec::new());
        }
        self.bump();
        let open = self.bump().span;
        let tables = self.parse_comma_list(Self::parse_union_table)?;
        self.expect_closing(TokenKind::RParen, open)?;
        Ok(tables)
    }

    fn parse_search(&mut self) -> PResult<OperatorKind> {
        let params = self.parse_params(&["kind"])?;
        let tables = self.parse_in_tables()?;
        let saved = std::mem::replace(&mut self.in_search, true);
        let predicate = self.parse_expr();
        self.in_search = saved;
        let predicate = predicate?;
        Ok(OperatorKind::Search {
            params,
            tables,
            predicate,
        })
    }

    fn parse_find(&mut self) -> PResult<OperatorKind> {
        let params = self.parse_params(&["withsource", "datascope"])?;
        let tables = self.parse_in_tables()?;
        self.expect_word("where")?;
        let predicate = self.parse_expr()?;
        let project = if self.eat_word("project-smart") {
            FindProject::Smart
        } else if self.eat_word("project") {
            FindProject::Columns {
                columns: self.parse_comma_list(Self::parse_expr)?,
            }
        } else {
            FindProject::Default
        };
        Ok(OperatorKind::Find {
            params,
            tables,
            predicate,
            project,
        })
    }

    fn parse_fork(&mut self) -> PResult<OperatorKind> {
        let mut branches = Vec::new();
        while !self.at_operator_end() || self.at(TokenKind::Comma) {
            self.eat(TokenKind::Comma);
            let name = if self.at_name_assign() {
                let name = self.parse_ident("a branch name")?;
                self.bump();
                Some(name)
            } else {
                None
            };
            let operators = self.parse_subquery()?;
            branches.push(ForkBranch { name, operators });
        }
        if branches.is_empty() {
            return Err(self.unexpected("a parenthesised subquery"));
        }
        Ok(OperatorKind::Fork { branches })
    }

    fn parse_facet(&mut self) -> PResult<OperatorKind> {
        self.expect_word("by")?;
        let columns = self.parse_name_patterns()?;
        let with = if self.eat_word("with") {
            self.parse_subquery()?
        } else {
            Vec::new()
        };
        Ok(OperatorKind::Facet { columns, with })
    }

    fn parse_partition(&mut self) -> PResult<OperatorKind> {
        let params = self.parse_params(&[])?;
        self.expect_word("by")?;
        let column = self.parse_ident("the partitioning column")?;
        let by = Expr::new(
            ExprKind::Name {
                name: column.clone(),
            },
            column.span,
        );
        let body = if self.at(TokenKind::LBrace) {
            let open = self.bump().span;
            let query = self.parse_pipe_expr()?;
            self.expect_closing(TokenKind::RBrace, open)?;
            PartitionBody::Query {
                query: Box::new(query),
            }
        } else {
            PartitionBody::Subquery {
                operators: self.parse_subquery()?,
            }
        };
        Ok(OperatorKind::Partition { params, by, body })
    }

    fn parse_scan(&mut self) -> PResult<OperatorKind> {
        let params = self.parse_params(&["with_match_id"])?;
        let mut declarations = Vec::new();
        if self.eat_word("declare") {
            let open = self.expect(TokenKind::LParen)?.span;
            declarations = self.parse_comma_list(|p| {
                let column = p.parse_column_decl()?;
                let default = if p.eat(TokenKind::Assign) {
                    Some(p.parse_expr()?)
                } else {
                    None
                };
                Ok(ScanDeclaration { column, default })
            })?;
            self.expect_closing(TokenKind::RParen, open)?;
        }
        self.expect_word("with")?;
        let open = self.expect(TokenKind::LParen)?.span;
        let mut steps = Vec::new();
        while self.at_word("step") {
            self.bump();
            let name = self.parse_ident("a step name")?;
            let optional = self.eat_word("optional");
            let output = if self.at_word("output") && self.nth_kind(1) == TokenKind::Assign {
                self.bump();
                self.bump();
                Some(self.parse_ident("`all`, `last` or `none`")?)
            } else {
                None
            };
            self.expect(TokenKind::Colon)?;
            let predicate = self.parse_expr()?;
            let assignments = if self.eat(TokenKind::FatArrow) {
                self.parse_column_exprs()?
            } else {
                Vec::new()
            };
            steps.push(ScanStep {
                name,
                optional,
                output,
                predicate,
                assignments,
            });
            if !self.eat(TokenKind::Semicolon) {
                break;
            }
        }
        if steps.is_empty() {
            return Err(self.unexpected("`step`"));
        }
        self.expect_closing(TokenKind::RParen, open)?;
        Ok(OperatorKind::Scan {
            params,
            declarations,
            steps,
        })
    }
}
