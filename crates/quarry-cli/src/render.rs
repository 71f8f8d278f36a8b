//! Rendering diagnostics for people: miette's graphical reports, pointing into the file.

use miette::{
    Diagnostic, GraphicalReportHandler, GraphicalTheme, LabeledSpan, NamedSource, SourceCode,
};
use quarry_kql::Severity;
use std::fmt;
use std::io::IsTerminal;

/// Width used to wrap messages; fixed so that output does not depend on the terminal.
const WIDTH: usize = 100;

/// A diagnostic positioned in a file (byte offsets into the file text, not into a query).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileDiagnostic {
    /// A stable code such as `kql::unexpected-token`.
    pub code: String,
    /// Error or warning.
    pub severity: Severity,
    /// What is wrong.
    pub message: String,
    /// Start and end byte offsets in the file; `None` when there is nothing to point at.
    pub span: Option<(usize, usize)>,
    /// A short label shown under the highlighted text.
    pub label: Option<String>,
    /// A suggestion for fixing it.
    pub help: Option<String>,
}

/// True when output to stdout should be coloured: stdout is a terminal and `NO_COLOR` is unset.
pub fn stdout_color() -> bool {
    std::io::stdout().is_terminal() && !no_color()
}

/// True when output to stderr should be coloured: stderr is a terminal and `NO_COLOR` is unset.
pub fn stderr_color() -> bool {
    std::io::stderr().is_terminal() && !no_color()
}

/// True when `NO_COLOR` is set to a non-empty value (<https://no-color.org>).
fn no_color() -> bool {
    std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty())
}

/// Renders [`FileDiagnostic`]s as miette reports, with or without colour.
pub struct Renderer {
    handler: GraphicalReportHandler,
}

impl Renderer {
    /// A renderer using Unicode box drawing, coloured or not.
    pub fn new(color: bool) -> Self {
        let theme = if color {
            GraphicalTheme::unicode()
        } else {
            GraphicalTheme::unicode_nocolor()
        };
        let handler = GraphicalReportHandler::new_themed(theme)
            .with_width(WIDTH)
            .with_links(false);
        Renderer { handler }
    }

    /// The report for one diagnostic of the file `source`; the header names `path:line:col`.
    pub fn render(&self, source: &NamedSource<String>, diagnostic: &FileDiagnostic) -> String {
        let report = Report { diagnostic, source };
        let mut out = String::new();
        if self.handler.render_report(&mut out, &report).is_err() {
            // miette could not read the span; fall back to one plain line.
            out = format!(
                "{}: {}: {}\n",
                source.name(),
                diagnostic.code,
                diagnostic.message
            );
        }
        out
    }
}

/// The miette view of a [`FileDiagnostic`] in its file.
#[derive(Debug)]
struct Report<'a> {
    diagnostic: &'a FileDiagnostic,
    source: &'a NamedSource<String>,
}

impl fmt::Display for Report<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.diagnostic.span.is_none() {
            // No snippet will name the file, so the message does.
            write!(f, "{}: ", self.source.name())?;
        }
        f.write_str(&self.diagnostic.message)
    }
}

impl std::error::Error for Report<'_> {}

impl Diagnostic for Report<'_> {
    fn code<'b>(&'b self) -> Option<Box<dyn fmt::Display + 'b>> {
        Some(Box::new(&self.diagnostic.code))
    }

    fn severity(&self) -> Option<miette::Severity> {
        Some(match self.diagnostic.severity {
            Severity::Error => miette::Severity::Error,
            Severity::Warning => miette::Severity::Warning,
        })
    }

    fn help<'b>(&'b self) -> Option<Box<dyn fmt::Display + 'b>> {
        self.diagnostic
            .help
            .as_ref()
            .map(|help| Box::new(help) as Box<dyn fmt::Display + 'b>)
    }

    fn source_code(&self) -> Option<&dyn SourceCode> {
        self.diagnostic.span.map(|_| self.source as &dyn SourceCode)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        let (start, end) = self.diagnostic.span?;
        let label = LabeledSpan::new_primary_with_span(
            self.diagnostic.label.clone(),
            (start, end.saturating_sub(start)),
        );
        Some(Box::new(std::iter::once(label)))
    }
}
