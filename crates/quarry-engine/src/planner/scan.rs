//! `scan`: a sequential state machine over the ordered rows.
//!
//! DataFusion cannot express the state machine, so it runs inside a window function
//! ([`ScanWindow`]) over the whole input, ordered by the input's row order (through
//! [`Planner::project_windowed`]). The window function receives every input column, runs the
//! steps as the KQL documentation describes (each row against the steps from last to first, check
//! 1 against the previous step's state, check 2 against the step's own), and returns for each row
//! the list of its matches: the position among the row's matches, the match id and the declared
//! columns. The list is unnested, the struct fields become columns, and the result is sorted back
//! into row order.
//!
//! Conditions and assignments are planned as DataFusion expressions against an evaluation schema:
//! the input columns, the declared columns (holding their defaults, which is what a bare declared
//! name reads) and one column `__scan_<step>_<column>` per step and column, which is what
//! `step.column` is rewritten to. They are evaluated row by row on one-row batches.

use super::{column, column_names, Planner, Relation};
use crate::error::{EngineError, Result};
use crate::types::{arrow_type, KustoType};
use datafusion::arrow::array::{new_empty_array, Array, ArrayRef, RecordBatch};
use datafusion::arrow::datatypes::{DataType, Field, FieldRef, Fields, Schema, SchemaRef};
use datafusion::common::{DFSchema, Result as DfResult, ScalarValue};
use datafusion::execution::context::ExecutionProps;
use datafusion::functions::core::expr_fn::get_field;
use datafusion::logical_expr::expr::WindowFunction;
use datafusion::logical_expr::function::{PartitionEvaluatorArgs, WindowUDFFieldArgs};
use datafusion::logical_expr::physical_planning_context::PhysicalPlanningContext;
use datafusion::logical_expr::simplify::SimplifyContext;
use datafusion::logical_expr::{
    cast, lit, Expr, ExprSchemable, PartitionEvaluator, Signature, Volatility, WindowFrame,
    WindowFunctionDefinition, WindowUDF, WindowUDFImpl,
};
use datafusion::optimizer::simplify_expressions::ExprSimplifier;
use datafusion::physical_expr::{create_physical_expr, PhysicalExpr};
use quarry_kql::ast::{Expr as KqlExpr, ExprKind, Ident, OperatorParam, ScanDeclaration, ScanStep};
use quarry_kql::Span;
use std::hash::{Hash, Hasher};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

/// The row-order column that [`Planner::project_windowed`] adds.
const ROWID: &str = "__quarry_rowid";
const ROW: &str = "__scan_row";
const OUT: &str = "__scan_out";
const SEQ: &str = "__scan_seq";
const MATCH: &str = "__scan_match";

fn state_name(step: usize, column: &str) -> String {
    format!("__scan_{step}_{column}")
}

fn declared_field(i: usize) -> String {
    format!("__scan_d{i}")
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Output {
    All,
    None,
}

/// The compiled scan: expressions against the evaluation schema.
#[derive(Debug)]
struct Program {
    /// Input columns, then declared columns, then state columns.
    eval_schema: Arc<DFSchema>,
    input_count: usize,
    declared_types: Vec<DataType>,
    /// Defaults of the declared columns (constants).
    defaults: Vec<Expr>,
    steps: Vec<StepProgram>,
}

#[derive(Debug)]
struct StepProgram {
    output: Output,
    predicate: Expr,
    /// (declared column index, value).
    assignments: Vec<(usize, Expr)>,
}

impl Planner<'_> {
    pub(super) fn scan(
        &mut self,
        input: Relation,
        params: &[OperatorParam],
        declarations: &[ScanDeclaration],
        steps: &[ScanStep],
        span: Span,
    ) -> Result<Relation> {
        self.scan_partitioned(input, params, declarations, steps, None, span)
    }

    /// `scan` run on each value of the column `partition` on its own (inside `partition by`
    /// and `mv-apply`), or over the whole input.
    pub(super) fn scan_partitioned(
        &mut self,
        input: Relation,
        params: &[OperatorParam],
        declarations: &[ScanDeclaration],
        steps: &[ScanStep],
        partition: Option<&str>,
        span: Span,
    ) -> Result<Relation> {
        let match_id =
            super::operators::param(params, "with_match_id").map(super::operators::param_text);
        if steps.is_empty() {
            return Err(EngineError::bind("scan needs at least one step", span));
        }
        let input_names = column_names(input.schema());
        let input_fields: Vec<Field> = input
            .schema()
            .fields()
            .iter()
            .map(|f| f.as_ref().clone().with_nullable(true))
            .collect();

        // Declared columns.
        let mut declared_names = Vec::new();
        let mut declared_types = Vec::new();
        let mut defaults = Vec::new();
        for declaration in declarations {
            let name = declaration.column.name.name.clone();
            if input_names.contains(&name) || declared_names.contains(&name) {
                return Err(EngineError::unsupported(
                    "scan declaring a column the input already has",
                    declaration.column.span,
                ));
            }
            let kusto: KustoType = declaration.column.ty.name.parse().map_err(|_| {
                EngineError::bind(
                    format!("unknown type `{}`", declaration.column.ty.name),
                    declaration.column.ty.span,
                )
            })?;
            let data_type = arrow_type(kusto);
            let default = match &declaration.default {
                Some(d) => self.plan_constant(d)?,
                None if data_type == DataType::Utf8 => lit(""),
                None => lit(ScalarValue::try_from(&data_type)?),
            };
            let empty = DFSchema::empty();
            let default = if default.get_type(&empty)? == data_type {
                default
            } else {
                cast(default, data_type.clone())
            };
            declared_names.push(name);
            declared_types.push(data_type);
            defaults.push(default);
        }

        // The evaluation schema.
        let all_names: Vec<String> = input_names
            .iter()
            .chain(declared_names.iter())
            .cloned()
            .collect();
        let mut all_fields: Vec<Field> = input_fields.clone();
        for (name, ty) in declared_names.iter().zip(&declared_types) {
            all_fields.push(Field::new(name, ty.clone(), true));
        }
        let mut eval_fields = all_fields.clone();
        for (j, _) in steps.iter().enumerate() {
            for field in &all_fields {
                eval_fields.push(field.clone().with_name(state_name(j, field.name())));
            }
        }
        let eval_schema = Arc::new(DFSchema::try_from(Schema::new(eval_fields))?);

        // The steps.
        let step_names: Vec<String> = steps.iter().map(|s| s.name.name.clone()).collect();
        let mut programs = Vec::new();
        for step in steps {
            let output = match step.output.as_ref().map(|o| o.name.as_str()) {
                None | Some("all") => Output::All,
                Some("none") => Output::None,
                Some("last") => {
                    return Err(EngineError::unsupported(
                        "scan steps with output=last",
                        span,
                    ))
                }
                Some(other) => {
                    return Err(EngineError::bind(
                        format!("unknown scan output `{other}`"),
                        step.name.span,
                    ))
                }
            };
            if step.optional {
                return Err(EngineError::unsupported(
                    "optional scan steps",
                    step.name.span,
                ));
            }
            let predicate = rewrite(&step.predicate, &step_names, &all_names)?;
            let predicate = self.plan_scalar(&predicate, &eval_schema)?;
            let mut assignments = Vec::new();
            for assignment in &step.assignments {
                let [target] = assignment.names.as_slice() else {
                    return Err(EngineError::bind(
                        "a scan assignment needs one column name",
                        assignment.span,
                    ));
                };
                let Some(index) = declared_names.iter().position(|n| *n == target.name) else {
                    return Err(EngineError::bind(
                        format!("`{}` is not a declared column of the scan", target.name),
                        target.span,
                    ));
                };
                let value = rewrite(&assignment.expr, &step_names, &all_names)?;
                let value = self.plan_scalar(&value, &eval_schema)?;
                let value = if value.get_type(&eval_schema)? == declared_types[index] {
                    value
                } else {
                    cast(value, declared_types[index].clone())
                };
                assignments.push((index, value));
            }
            programs.push(StepProgram {
                output,
                predicate,
                assignments,
            });
        }

        let program = Arc::new(Program {
            eval_schema,
            input_count: input_names.len(),
            declared_types: declared_types.clone(),
            defaults,
            steps: programs,
        });
        let mut struct_fields = vec![
            Field::new(SEQ, DataType::Int64, false),
            Field::new(MATCH, DataType::Int64, false),
        ];
        for (i, ty) in declared_types.iter().enumerate() {
            struct_fields.push(Field::new(declared_field(i), ty.clone(), true));
        }
        let item = DataType::Struct(Fields::from(struct_fields));
        let ret = DataType::List(Arc::new(Field::new("item", item, true)));
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let udwf = WindowUDF::new_from_impl(ScanWindow {
            id: COUNTER.fetch_add(1, Ordering::Relaxed),
            signature: Signature::variadic_any(Volatility::Immutable),
            ret,
            program,
        });
        let mut window = WindowFunction::new(
            WindowFunctionDefinition::WindowUDF(Arc::new(udwf)),
            input_names.iter().map(|n| column(n)).collect(),
        );
        window.params.order_by = vec![column(ROWID).sort(true, false)];
        window.params.window_frame = WindowFrame::new(Some(true));
        window.params.partition_by = partition.map(|p| vec![column(p)]).unwrap_or_default();
        let mut exprs: Vec<Expr> = input_names.iter().map(|n| column(n)).collect();
        exprs.push(column(ROWID).alias(ROW));
        exprs.push(Expr::WindowFunction(Box::new(window)).alias(OUT));
        let windowed = self.project_windowed(input, exprs)?;

        // One row per match, back in row order.
        let unnested = windowed.builder().unnest_column(OUT)?.build()?;
        let mut projected: Vec<Expr> = input_names.iter().map(|n| column(n)).collect();
        for (i, name) in declared_names.iter().enumerate() {
            projected.push(get_field(column(OUT), declared_field(i)).alias(name));
        }
        if let Some(name) = &match_id {
            projected.push(get_field(column(OUT), MATCH).alias(name));
        }
        projected.push(column(ROW));
        projected.push(get_field(column(OUT), SEQ).alias(SEQ));
        let mut output: Vec<Expr> = input_names
            .iter()
            .chain(declared_names.iter())
            .map(|n| column(n))
            .collect();
        if let Some(name) = &match_id {
            output.push(column(name));
        }
        let plan = datafusion::logical_expr::LogicalPlanBuilder::from(unnested)
            .project(projected)?
            .sort(vec![
                column(ROW).sort(true, false),
                column(SEQ).sort(true, false),
            ])?
            .project(output)?
            .build()?;
        Ok(Relation {
            plan,
            ordered: true,
        })
    }
}

/// Rewrites `step.column` to the state column that holds it.
fn rewrite(expr: &KqlExpr, steps: &[String], columns: &[String]) -> Result<KqlExpr> {
    let boxed = |e: &KqlExpr| -> Result<Box<KqlExpr>> { Ok(Box::new(rewrite(e, steps, columns)?)) };
    let kind = match &expr.kind {
        ExprKind::Member { target, name } => {
            if let ExprKind::Name { name: step } = &target.kind {
                if let Some(j) = steps.iter().position(|s| *s == step.name) {
                    if !columns.contains(&name.name) {
                        return Err(EngineError::bind(
                            format!("`{}` is not a column of the scan", name.name),
                            name.span,
                        ));
                    }
                    return Ok(KqlExpr {
                        kind: ExprKind::Name {
                            name: Ident {
                                name: state_name(j, &name.name),
                                span: expr.span,
                            },
                        },
                        span: expr.span,
                    });
                }
            }
            ExprKind::Member {
                target: boxed(target)?,
                name: name.clone(),
            }
        }
        ExprKind::Unary { op, operand } => ExprKind::Unary {
            op: *op,
            operand: boxed(operand)?,
        },
        ExprKind::Binary { op, left, right } => ExprKind::Binary {
            op: *op,
            left: boxed(left)?,
            right: boxed(right)?,
        },
        ExprKind::Between {
            negated,
            expr: inner,
            low,
            high,
        } => ExprKind::Between {
            negated: *negated,
            expr: boxed(inner)?,
            low: boxed(low)?,
            high: boxed(high)?,
        },
        ExprKind::List {
            op,
            expr: inner,
            items,
        } => ExprKind::List {
            op: *op,
            expr: boxed(inner)?,
            items: items
                .iter()
                .map(|i| rewrite(i, steps, columns))
                .collect::<Result<_>>()?,
        },
        ExprKind::Index { target, index } => ExprKind::Index {
            target: boxed(target)?,
            index: boxed(index)?,
        },
        ExprKind::Call { function, args } => ExprKind::Call {
            function: function.clone(),
            args: args
                .iter()
                .map(|a| {
                    Ok(quarry_kql::ast::Arg {
                        name: a.name.clone(),
                        value: rewrite(&a.value, steps, columns)?,
                    })
                })
                .collect::<Result<_>>()?,
        },
        ExprKind::Paren { inner } => ExprKind::Paren {
            inner: boxed(inner)?,
        },
        other => other.clone(),
    };
    Ok(KqlExpr {
        kind,
        span: expr.span,
    })
}

/// The window function that runs the scan over a whole (ordered) partition.
#[derive(Debug)]
struct ScanWindow {
    id: usize,
    signature: Signature,
    ret: DataType,
    program: Arc<Program>,
}

impl PartialEq for ScanWindow {
    fn eq(&self, other: &Self) -> bool {
        self.id == other.id
    }
}

impl Eq for ScanWindow {}

impl Hash for ScanWindow {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.id.hash(state);
    }
}

impl WindowUDFImpl for ScanWindow {
    fn name(&self) -> &str {
        "kql_scan"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn partition_evaluator(
        &self,
        _args: PartitionEvaluatorArgs,
    ) -> DfResult<Box<dyn PartitionEvaluator>> {
        Ok(Box::new(ScanEvaluator {
            program: Arc::clone(&self.program),
            ret: self.ret.clone(),
        }))
    }

    fn field(&self, field_args: WindowUDFFieldArgs) -> DfResult<FieldRef> {
        Ok(Arc::new(Field::new(
            field_args.name(),
            self.ret.clone(),
            true,
        )))
    }
}

#[derive(Debug)]
struct ScanEvaluator {
    program: Arc<Program>,
    ret: DataType,
}

/// The state of one step: its match id and one record per step up to it.
#[derive(Clone)]
struct StepState {
    match_id: i64,
    records: Vec<Option<Vec<ScalarValue>>>,
}

struct Compiled {
    predicate: Arc<dyn PhysicalExpr>,
    assignments: Vec<(usize, Arc<dyn PhysicalExpr>)>,
    output: Output,
}

impl ScanEvaluator {
    fn run(&self, values: &[ArrayRef], num_rows: usize) -> DfResult<ArrayRef> {
        let program = &self.program;
        let props = ExecutionProps::new();
        let planning = PhysicalPlanningContext::default();
        let schema: SchemaRef = Arc::new(program.eval_schema.as_arrow().clone());
        let empty = DFSchema::empty();
        let one_row = RecordBatch::try_new_with_options(
            Arc::new(Schema::empty()),
            vec![],
            &datafusion::arrow::array::RecordBatchOptions::new().with_row_count(Some(1)),
        )?;
        let mut defaults = Vec::new();
        for default in &program.defaults {
            let physical = physical(default, &empty, &props, &planning)?;
            let value = physical.evaluate(&one_row)?.into_array(1)?;
            defaults.push(ScalarValue::try_from_array(&value, 0)?);
        }
        let compiled: Vec<Compiled> = program
            .steps
            .iter()
            .map(|s| {
                Ok(Compiled {
                    predicate: physical(&s.predicate, &program.eval_schema, &props, &planning)?,
                    assignments: s
                        .assignments
                        .iter()
                        .map(|(i, e)| {
                            Ok((*i, physical(e, &program.eval_schema, &props, &planning)?))
                        })
                        .collect::<DfResult<_>>()?,
                    output: s.output,
                })
            })
            .collect::<DfResult<_>>()?;
        let n = compiled.len();
        // The values of a missing record: null input columns ("" for strings), declared defaults.
        let mut missing: Vec<ScalarValue> = Vec::new();
        for field in schema.fields().iter().take(program.input_count) {
            missing.push(if field.data_type() == &DataType::Utf8 {
                ScalarValue::Utf8(Some(String::new()))
            } else if field.data_type() == &DataType::Utf8View {
                ScalarValue::Utf8View(Some(String::new()))
            } else {
                ScalarValue::try_from(field.data_type())?
            });
        }
        missing.extend(defaults.iter().cloned());

        let mut states: Vec<Option<StepState>> = vec![None; n];
        let mut next_id = 0i64;
        let mut rows_out: Vec<ScalarValue> = Vec::with_capacity(num_rows);
        let struct_fields = match &self.ret {
            DataType::List(item) => match item.data_type() {
                DataType::Struct(fields) => fields.clone(),
                _ => unreachable!("the scan result is a list of structs"),
            },
            _ => unreachable!("the scan result is a list of structs"),
        };

        for row in 0..num_rows {
            let input: Vec<ScalarValue> = values
                .iter()
                .map(|a| ScalarValue::try_from_array(a, row))
                .collect::<DfResult<_>>()?;
            let mut matches: Vec<(i64, Vec<ScalarValue>)> = Vec::new();
            let evaluate = |expr: &Arc<dyn PhysicalExpr>,
                            state: Option<&StepState>|
             -> DfResult<ScalarValue> {
                let mut columns: Vec<ScalarValue> = input.clone();
                columns.extend(defaults.iter().cloned());
                for j in 0..n {
                    match state
                        .and_then(|s| s.records.get(j))
                        .and_then(|r| r.as_ref())
                    {
                        Some(record) => columns.extend(record.iter().cloned()),
                        None => columns.extend(missing.iter().cloned()),
                    }
                }
                let arrays: Vec<ArrayRef> = columns
                    .iter()
                    .zip(schema.fields().iter())
                    .map(|(v, f)| {
                        let array = v.to_array_of_size(1)?;
                        if array.data_type() == f.data_type() {
                            Ok(array)
                        } else {
                            datafusion::arrow::compute::cast(&array, f.data_type())
                                .map_err(Into::into)
                        }
                    })
                    .collect::<DfResult<_>>()?;
                let batch = RecordBatch::try_new(Arc::clone(&schema), arrays)?;
                let value = expr.evaluate(&batch)?.into_array(1)?;
                ScalarValue::try_from_array(&value, 0)
            };
            let extend =
                |step: &Compiled, state: Option<&StepState>| -> DfResult<Vec<ScalarValue>> {
                    let mut declared = defaults.clone();
                    for (i, expr) in &step.assignments {
                        let value = evaluate(expr, state)?;
                        declared[*i] = value.cast_to(&program.declared_types[*i])?;
                    }
                    Ok(declared)
                };
            let is_true = |v: &ScalarValue| matches!(v, ScalarValue::Boolean(Some(true)));
            for k in (0..n).rev() {
                let step = &compiled[k];
                // Check 1: the previous step has an active sequence.
                if k > 0 && states[k - 1].is_some() {
                    let previous = states[k - 1].as_ref();
                    if is_true(&evaluate(&step.predicate, previous)?) {
                        let mut state = states[k - 1].take().expect("checked above");
                        let declared = extend(step, Some(&state))?;
                        let mut record = input.clone();
                        record.extend(declared.iter().cloned());
                        state.records[k] = Some(record);
                        if step.output == Output::All {
                            matches.push((state.match_id, declared));
                        }
                        states[k] = Some(state);
                        continue;
                    }
                }
                // Check 2: the step's own active sequence, or the first step.
                if states[k].is_some() || k == 0 {
                    let current = states[k].as_ref();
                    if is_true(&evaluate(&step.predicate, current)?) {
                        let declared = extend(step, current)?;
                        let mut record = input.clone();
                        record.extend(declared.iter().cloned());
                        let state = states[k].get_or_insert_with(|| {
                            let id = next_id;
                            next_id += 1;
                            StepState {
                                match_id: id,
                                records: vec![None; n],
                            }
                        });
                        state.records[k] = Some(record);
                        if step.output == Output::All {
                            matches.push((state.match_id, declared));
                        }
                    }
                }
            }
            // The row's matches as a list of structs.
            let mut items = Vec::with_capacity(matches.len());
            for (seq, (match_id, declared)) in matches.into_iter().enumerate() {
                let mut arrays: Vec<ArrayRef> = vec![
                    ScalarValue::Int64(Some(seq as i64)).to_array()?,
                    ScalarValue::Int64(Some(match_id)).to_array()?,
                ];
                for (value, ty) in declared.iter().zip(&program.declared_types) {
                    let array = value.to_array()?;
                    arrays.push(if array.data_type() == ty {
                        array
                    } else {
                        datafusion::arrow::compute::cast(&array, ty)?
                    });
                }
                let item = datafusion::arrow::array::StructArray::try_new(
                    struct_fields.clone(),
                    arrays,
                    None,
                )?;
                items.push(ScalarValue::Struct(Arc::new(item)));
            }
            let item_type = DataType::Struct(struct_fields.clone());
            rows_out.push(ScalarValue::List(ScalarValue::new_list_nullable(
                &items, &item_type,
            )));
        }
        if rows_out.is_empty() {
            return Ok(new_empty_array(&self.ret));
        }
        ScalarValue::iter_to_array(rows_out)
    }
}

/// Simplifies `expr` (DataFusion's physical planning expects simplified expressions) and
/// creates its physical form.
fn physical(
    expr: &Expr,
    schema: &DFSchema,
    props: &ExecutionProps,
    planning: &PhysicalPlanningContext,
) -> DfResult<Arc<dyn PhysicalExpr>> {
    let context = SimplifyContext::builder()
        .with_schema(Arc::new(schema.clone()))
        .build();
    let simplified = ExprSimplifier::new(context).simplify(expr.clone())?;
    create_physical_expr(&simplified, schema, props, planning)
}

impl PartitionEvaluator for ScanEvaluator {
    fn evaluate_all(&mut self, values: &[ArrayRef], num_rows: usize) -> DfResult<ArrayRef> {
        self.run(values, num_rows)
    }
}
