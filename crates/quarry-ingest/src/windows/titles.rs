//! The titles Windows gives its Security audit events, for `SecurityEvent.Activity`
//! (`4688 - A new process has been created.`). Source: Microsoft's "Windows security audit
//! events" reference (event ids and their titles, as facts).

/// Security audit event titles by id.
pub const SECURITY: &[(i64, &str)] = &[
    (1100, "The event logging service has shut down."),
    (1102, "The audit log was cleared."),
    (4608, "Windows is starting up."),
    (4616, "The system time was changed."),
    (4624, "An account was successfully logged on."),
    (4625, "An account failed to log on."),
    (4627, "Group membership information."),
    (4634, "An account was logged off."),
    (4647, "User initiated logoff."),
    (4648, "A logon was attempted using explicit credentials."),
    (4656, "A handle to an object was requested."),
    (4657, "A registry value was modified."),
    (4658, "The handle to an object was closed."),
    (4660, "An object was deleted."),
    (4661, "A handle to an object was requested."),
    (4662, "An operation was performed on an object."),
    (4663, "An attempt was made to access an object."),
    (4670, "Permissions on an object were changed."),
    (4672, "Special privileges assigned to new logon."),
    (4673, "A privileged service was called."),
    (4674, "An operation was attempted on a privileged object."),
    (4688, "A new process has been created."),
    (4689, "A process has exited."),
    (
        4690,
        "An attempt was made to duplicate a handle to an object.",
    ),
    (4697, "A service was installed in the system."),
    (4698, "A scheduled task was created."),
    (4699, "A scheduled task was deleted."),
    (4700, "A scheduled task was enabled."),
    (4701, "A scheduled task was disabled."),
    (4702, "A scheduled task was updated."),
    (4703, "A token right was adjusted."),
    (4719, "System audit policy was changed."),
    (4720, "A user account was created."),
    (4722, "A user account was enabled."),
    (4723, "An attempt was made to change an account's password."),
    (4724, "An attempt was made to reset an account's password."),
    (4725, "A user account was disabled."),
    (4726, "A user account was deleted."),
    (
        4728,
        "A member was added to a security-enabled global group.",
    ),
    (
        4732,
        "A member was added to a security-enabled local group.",
    ),
    (4738, "A user account was changed."),
    (4740, "A user account was locked out."),
    (4742, "A computer account was changed."),
    (
        4756,
        "A member was added to a security-enabled universal group.",
    ),
    (
        4768,
        "A Kerberos authentication ticket (TGT) was requested.",
    ),
    (4769, "A Kerberos service ticket was requested."),
    (4770, "A Kerberos service ticket was renewed."),
    (4771, "Kerberos pre-authentication failed."),
    (
        4776,
        "The computer attempted to validate the credentials for an account.",
    ),
    (4778, "A session was reconnected to a Window Station."),
    (4779, "A session was disconnected from a Window Station."),
    (4798, "A user's local group membership was enumerated."),
    (
        4799,
        "A security-enabled local group membership was enumerated.",
    ),
    (4907, "Auditing settings on object were changed."),
    (5059, "Key migration operation."),
    (5140, "A network share object was accessed."),
    (
        5145,
        "A network share object was checked to see whether client can be granted desired access.",
    ),
    (
        5156,
        "The Windows Filtering Platform has permitted a connection.",
    ),
    (
        5157,
        "The Windows Filtering Platform has blocked a connection.",
    ),
    (
        5158,
        "The Windows Filtering Platform has permitted a bind to a local port.",
    ),
    (5379, "Credential Manager credentials were read."),
    (5381, "Vault credentials were read."),
    (5382, "Vault credentials were read."),
];

/// `"<id> - <title>"` when the title is known, else `"<id>"`.
pub fn activity(event_id: i64, titles: &[(i64, &str)]) -> String {
    match titles.iter().find(|(id, _)| *id == event_id) {
        Some((_, title)) => format!("{event_id} - {title}"),
        None => event_id.to_string(),
    }
}
