//! Where a rule repository comes from: a local folder (a git checkout or not) or a git URL that
//! is cloned, or fetched when already cloned, into a folder of the user's workspace.

use std::path::{Path, PathBuf};
use std::process::Command;

/// A repository ready to read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RepositorySource {
    /// The folder to read.
    pub root: PathBuf,
    /// The repository's name in the catalog: its URL, or the local folder's absolute path.
    pub repository: String,
    /// The commit read, when known.
    pub commit: Option<String>,
    /// When it was read (RFC 3339, UTC).
    pub retrieved_at: String,
    /// The web address of the repository, for links to files (`https://github.com/o/r`).
    pub web_url: Option<String>,
}

impl RepositorySource {
    /// A link to a file at the recorded commit (or the default branch), when the host is known.
    pub fn file_url(&self, relative: &str) -> Option<String> {
        let base = self.web_url.as_deref()?;
        let reference = self.commit.as_deref().unwrap_or("HEAD");
        Some(format!("{base}/blob/{reference}/{}", encode_path(relative)))
    }
}

/// How to open a repository.
#[derive(Debug, Clone, Default)]
pub struct RepositoryOptions {
    /// Where git URLs are cloned (`<workspace>/repos`).
    pub clone_dir: PathBuf,
    /// The upstream URL of a local folder that is not a git checkout (or to override `origin`).
    pub origin: Option<String>,
    /// The commit of a local folder that is not a git checkout.
    pub commit: Option<String>,
    /// The retrieval time to record (RFC 3339).
    pub now: String,
}

/// Why a repository could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum RepositoryError {
    /// The local path does not exist or is not a folder.
    #[error("{0}: no such folder")]
    NotAFolder(PathBuf),
    /// `git` could not be started.
    #[error("cannot run git (needed for {url}): {source}")]
    GitMissing {
        /// The URL being cloned.
        url: String,
        /// The error starting git.
        source: std::io::Error,
    },
    /// A git command failed.
    #[error("git {action} {url} failed: {message}")]
    Git {
        /// `clone` or `fetch`.
        action: &'static str,
        /// The URL.
        url: String,
        /// What git said.
        message: String,
    },
}

/// True for text that names a remote git repository rather than a local folder.
fn is_git_url(spec: &str) -> bool {
    spec.starts_with("https://")
        || spec.starts_with("http://")
        || spec.starts_with("ssh://")
        || spec.starts_with("git://")
        || spec.starts_with("file://")
        || (spec.starts_with("git@") && spec.contains(':'))
}

/// Opens a local folder or clones/fetches a git URL.
pub fn open_repository(
    spec: &str,
    options: &RepositoryOptions,
) -> Result<RepositorySource, RepositoryError> {
    if is_git_url(spec) {
        return clone_or_fetch(spec, options);
    }
    let root = PathBuf::from(spec);
    if !root.is_dir() {
        return Err(RepositoryError::NotAFolder(root));
    }
    let root = root.canonicalize().unwrap_or(root);
    let git_commit = git_output(&root, &["rev-parse", "HEAD"]);
    let git_origin = git_output(&root, &["remote", "get-url", "origin"]);
    let origin = options.origin.clone().or(git_origin);
    Ok(RepositorySource {
        repository: origin
            .clone()
            .unwrap_or_else(|| root.to_string_lossy().into_owned()),
        web_url: origin.as_deref().and_then(web_url),
        commit: options.commit.clone().or(git_commit),
        retrieved_at: options.now.clone(),
        root,
    })
}

fn clone_or_fetch(
    url: &str,
    options: &RepositoryOptions,
) -> Result<RepositorySource, RepositoryError> {
    let target = options.clone_dir.join(clone_folder_name(url));
    let run = |args: &[&str], cwd: Option<&Path>, action: &'static str| {
        let mut command = Command::new("git");
        command.args(args).env("GIT_TERMINAL_PROMPT", "0");
        if let Some(cwd) = cwd {
            command.current_dir(cwd);
        }
        let output = command
            .output()
            .map_err(|source| RepositoryError::GitMissing {
                url: url.to_string(),
                source,
            })?;
        if output.status.success() {
            Ok(())
        } else {
            Err(RepositoryError::Git {
                action,
                url: url.to_string(),
                message: String::from_utf8_lossy(&output.stderr).trim().to_string(),
            })
        }
    };
    if target.join(".git").is_dir() {
        run(&["fetch", "--depth", "1", "origin"], Some(&target), "fetch")?;
        run(&["reset", "--hard", "FETCH_HEAD"], Some(&target), "fetch")?;
    } else {
        std::fs::create_dir_all(&options.clone_dir).map_err(|e| RepositoryError::Git {
            action: "clone",
            url: url.to_string(),
            message: format!("cannot create {}: {e}", options.clone_dir.display()),
        })?;
        // Clone next to the target and rename, so an interrupted clone never looks complete.
        let staging = options
            .clone_dir
            .join(format!(".{}.partial", clone_folder_name(url)));
        let _ = std::fs::remove_dir_all(&staging);
        let staging_text = staging.to_string_lossy().into_owned();
        run(
            &["clone", "--depth", "1", "--quiet", url, &staging_text],
            None,
            "clone",
        )?;
        std::fs::rename(&staging, &target).map_err(|e| RepositoryError::Git {
            action: "clone",
            url: url.to_string(),
            message: format!("cannot move the clone into {}: {e}", target.display()),
        })?;
    }
    Ok(RepositorySource {
        commit: git_output(&target, &["rev-parse", "HEAD"]),
        repository: url.to_string(),
        web_url: web_url(url),
        retrieved_at: options.now.clone(),
        root: target,
    })
}

/// The first line git prints, when the command succeeds inside `root` itself (not a parent).
fn git_output(root: &Path, args: &[&str]) -> Option<String> {
    let top = Command::new("git")
        .args(["rev-parse", "--show-toplevel"])
        .current_dir(root)
        .output()
        .ok()?;
    let top = String::from_utf8_lossy(&top.stdout).trim().to_string();
    if top.is_empty() || Path::new(&top).canonicalize().ok()? != root.canonicalize().ok()? {
        return None;
    }
    let output = Command::new("git")
        .args(args)
        .current_dir(root)
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&output.stdout).trim().to_string();
    (output.status.success() && !text.is_empty()).then_some(text)
}

/// `https://github.com/Azure/Azure-Sentinel.git` or `git@github.com:Azure/Azure-Sentinel.git` →
/// `https://github.com/Azure/Azure-Sentinel`.
fn web_url(origin: &str) -> Option<String> {
    let trimmed = origin.trim().trim_end_matches('/');
    let trimmed = trimmed.strip_suffix(".git").unwrap_or(trimmed);
    let path = if let Some(rest) = trimmed.strip_prefix("git@github.com:") {
        rest.to_string()
    } else {
        let rest = trimmed
            .strip_prefix("https://")
            .or_else(|| trimmed.strip_prefix("http://"))?;
        rest.strip_prefix("github.com/")?.to_string()
    };
    (path.split('/').count() == 2).then(|| format!("https://github.com/{path}"))
}

/// A folder name for a clone: the URL's last two path parts, made safe.
fn clone_folder_name(url: &str) -> String {
    let trimmed = url.trim_end_matches('/');
    let trimmed = trimmed.strip_suffix(".git").unwrap_or(trimmed);
    let parts: Vec<&str> = trimmed.rsplit(['/', ':']).take(2).collect();
    parts
        .iter()
        .rev()
        .map(|p| {
            p.chars()
                .map(|c| {
                    if c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.' {
                        c
                    } else {
                        '_'
                    }
                })
                .collect::<String>()
        })
        .collect::<Vec<_>>()
        .join("+")
}

/// Percent-encodes a repository path for a URL, keeping `/`.
fn encode_path(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for byte in path.bytes() {
        if byte.is_ascii_alphanumeric() || b"/-_.~()".contains(&byte) {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn github_origins_give_file_links_at_the_commit() {
        let source = RepositorySource {
            root: PathBuf::new(),
            repository: "git@github.com:Azure/Azure-Sentinel.git".into(),
            commit: Some("b819f67".into()),
            retrieved_at: String::new(),
            web_url: web_url("git@github.com:Azure/Azure-Sentinel.git"),
        };
        assert_eq!(
            source.file_url("Hunting Queries/M/Network footprint (3).yaml").as_deref(),
            Some("https://github.com/Azure/Azure-Sentinel/blob/b819f67/Hunting%20Queries/M/Network%20footprint%20(3).yaml")
        );
        assert_eq!(web_url("https://gitlab.com/a/b"), None);
        assert_eq!(
            clone_folder_name("https://github.com/Azure/Azure-Sentinel.git"),
            "Azure+Azure-Sentinel"
        );
    }

    #[test]
    fn local_git_checkouts_and_urls_record_their_commit() {
        let dir = tempfile::tempdir().unwrap();
        let upstream = dir.path().join("upstream");
        std::fs::create_dir_all(upstream.join("Detections/X")).unwrap();
        std::fs::write(upstream.join("Detections/X/r.yaml"), "id: 1\nquery: T\n").unwrap();
        let git = |args: &[&str]| {
            let status = Command::new("git")
                .args([
                    "-c",
                    "user.name=t",
                    "-c",
                    "user.email=t@t",
                    "-c",
                    "commit.gpgsign=false",
                ])
                .args(args)
                .current_dir(&upstream)
                .status()
                .unwrap();
            assert!(status.success(), "git {args:?}");
        };
        git(&["init", "-q"]);
        git(&["add", "."]);
        git(&["commit", "-qm", "one"]);
        let options = RepositoryOptions {
            clone_dir: dir.path().join("repos"),
            now: "2026-11-28T00:00:00Z".into(),
            ..RepositoryOptions::default()
        };
        let local = open_repository(upstream.to_str().unwrap(), &options).unwrap();
        assert_eq!(local.commit.as_ref().map(String::len), Some(40));
        let url = format!("file://{}", upstream.display());
        let cloned = open_repository(&url, &options).unwrap();
        assert_eq!(cloned.commit, local.commit);
        assert!(cloned.root.join("Detections/X/r.yaml").is_file());
        // A second open fetches into the same clone.
        std::fs::write(upstream.join("Detections/X/s.yaml"), "id: 2\nquery: T\n").unwrap();
        git(&["add", "."]);
        git(&["commit", "-qm", "two"]);
        let fetched = open_repository(&url, &options).unwrap();
        assert_eq!(fetched.root, cloned.root);
        assert_ne!(fetched.commit, cloned.commit);
        assert!(fetched.root.join("Detections/X/s.yaml").is_file());
        assert!(matches!(
            open_repository("/no/such/folder", &options),
            Err(RepositoryError::NotAFolder(_))
        ));
    }
}
