//! Rule repositories: where the rules and parsers of a checkout are, how to read its parsers as
//! stored functions, and where the checkout came from (local folder or git URL).

mod layout;
mod parsers;
mod repository;

pub use layout::{classify, discover, Discovered, FileRole};
pub use parsers::{read_function_schema, read_parser_file, ParserReadError};
pub use repository::{open_repository, RepositoryError, RepositoryOptions, RepositorySource};
