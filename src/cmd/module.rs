//! The last commands of Redis 7.0's list that no other part of ferrokv
//! owns: RESTORE-ASKING
//! (RESTORE under its cluster name), CLUSTER, READONLY, READWRITE and
//! ASKING (as a Redis with `cluster-enabled no` answers them) and MODULE, whose
//! LOAD/LOADEX/UNLOAD are refused unless `enable-module-command` allows
//! them, as in Redis, and then find no module: ferrokv loads none.

use super::table::{Command, container, flag::*, row};
use super::{Args, CmdError, CmdResult, Ctx};

pub static COMMANDS: &[Command] = &[
    row(
        "restore-asking",
        -4,
        WRITE | DENYOOM | ASKING,
        (1, 1, 1),
        "server",
        "3.0.0",
        "An internal command for migrating keys in a cluster",
        super::dump::restore,
    )
    .key_flags(&["OW update"])
    .acl(&["@keyspace", "@dangerous"]),
    row(
        "readonly",
        1,
        LOADING | STALE | FAST,
        (0, 0, 0),
        "cluster",
        "3.0.0",
        "Enables read queries for a connection to a cluster replica node",
        no_cluster,
    )
    .acl(&["@connection"]),
    row(
        "readwrite",
        1,
        LOADING | STALE | FAST,
        (0, 0, 0),
        "cluster",
        "3.0.0",
        "Disables read queries for a connection to a cluster replica node",
        no_cluster,
    )
    .acl(&["@connection"]),
    row("asking", 1, FAST, (0, 0, 0), "cluster", "3.0.0", "Sent by cluster clients after an -ASK redirect", no_cluster)
        .acl(&["@connection"]),
    Command {
        subcommands: CLUSTER_SUBCOMMANDS,
        ..row("cluster", -2, 0, (0, 0, 0), "cluster", "3.0.0", "A container for cluster commands", container)
    },
    Command {
        subcommands: MODULE_SUBCOMMANDS,
        ..row("module", -2, 0, (0, 0, 0), "server", "4.0.0", "A container for module commands", container)
    },
];

/// The flags of CLUSTER's subcommands that change the cluster.
const CLUSTER_ADMIN: u32 = ADMIN | STALE | NO_ASYNC_LOADING;

/// CLUSTER's subcommands as Redis 7.0 lists them (flags, tips and
/// summaries from its COMMAND INFO and COMMAND DOCS); each is refused as by
/// a Redis with `cluster-enabled no`, HELP included.
static CLUSTER_SUBCOMMANDS: &[Command] = &[
    row(
        "addslots",
        -3,
        CLUSTER_ADMIN,
        (0, 0, 0),
        "cluster",
        "3.0.0",
        "Assign new hash slots to receiving node",
        no_cluster,
    ),
    row(
        "addslotsrange",
        -4,
        CLUSTER_ADMIN,
        (0, 0, 0),
        "cluster",
        "7.0.0",
        "Assign new hash slots to receiving node",
        no_cluster,
    ),
    row("bumpepoch", 2, CLUSTER_ADMIN, (0, 0, 0), "cluster", "3.0.0", "Advance the cluster config epoch", no_cluster)
        .tips(&["nondeterministic_output"]),
    row(
        "count-failure-reports",
        3,
        ADMIN | STALE,
        (0, 0, 0),
        "cluster",
        "3.0.0",
        "Return the number of failure reports active for a given node",
        no_cluster,
    )
    .tips(&["nondeterministic_output"]),
    row(
        "countkeysinslot",
        3,
        STALE,
        (0, 0, 0),
        "cluster",
        "3.0.0",
        "Return the number of local keys in the specified hash slot",
        no_cluster,
    ),
    row(
        "delslots",
        -3,
        CLUSTER_ADMIN,
        (0, 0, 0),
        "cluster",
        "3.0.0",
        "Set hash slots as unbound in receiving node",
        no_cluster,
    ),
    row(
        "delslotsrange",
        -4,
        CLUSTER_ADMIN,
        (0, 0, 0),
        "cluster",
        "7.0.0",
        "Set hash slots as unbound in receiving node",
        no_cluster,
    ),
    row(
        "failover",
        -2,
        CLUSTER_ADMIN,
        (0, 0, 0),
        "cluster",
        "3.0.0",
        "Forces a replica to perform a manual failover of its master.",
        no_cluster,
    ),
    row(
        "flushslots",
        2,
        CLUSTER_ADMIN,
        (0, 0, 0),
        "cluster",
        "3.0.0",
        "Delete a node's own slots information",
        no_cluster,
    ),
    row("forget", 3, CLUSTER_ADMIN, (0, 0, 0), "cluster", "3.0.0", "Remove a node from the nodes table", no_cluster),
    row(
        "getkeysinslot",
        4,
        STALE,
        (0, 0, 0),
        "cluster",
        "3.0.0",
        "Return local key names in the specified hash slot",
        no_cluster,
    )
    .tips(&["nondeterministic_output"]),
    row(
        "help",
        2,
        LOADING | STALE,
        (0, 0, 0),
        "cluster",
        "5.0.0",
        "Show helpful text about the different subcommands",
        no_cluster,
    ),
    row("info", 2, STALE, (0, 0, 0), "cluster", "3.0.0", "Provides info about Redis Cluster node state", no_cluster)
        .tips(&["nondeterministic_output"]),
    row("keyslot", 3, STALE, (0, 0, 0), "cluster", "3.0.0", "Returns the hash slot of the specified key", no_cluster),
    row(
        "links",
        2,
        STALE,
        (0, 0, 0),
        "cluster",
        "7.0.0",
        "Returns a list of all TCP links to and from peer nodes in cluster",
        no_cluster,
    )
    .tips(&["nondeterministic_output"]),
    row(
        "meet",
        -4,
        CLUSTER_ADMIN,
        (0, 0, 0),
        "cluster",
        "3.0.0",
        "Force a node cluster to handshake with another node",
        no_cluster,
    ),
    row("myid", 2, STALE, (0, 0, 0), "cluster", "3.0.0", "Return the node id", no_cluster),
    row("nodes", 2, STALE, (0, 0, 0), "cluster", "3.0.0", "Get Cluster config for the node", no_cluster)
        .tips(&["nondeterministic_output"]),
    row(
        "replicas",
        3,
        ADMIN | STALE,
        (0, 0, 0),
        "cluster",
        "5.0.0",
        "List replica nodes of the specified master node",
        no_cluster,
    )
    .tips(&["nondeterministic_output"]),
    row(
        "replicate",
        3,
        CLUSTER_ADMIN,
        (0, 0, 0),
        "cluster",
        "3.0.0",
        "Reconfigure a node as a replica of the specified master node",
        no_cluster,
    ),
    row("reset", -2, ADMIN | NOSCRIPT | STALE, (0, 0, 0), "cluster", "3.0.0", "Reset a Redis Cluster node", no_cluster),
    row(
        "saveconfig",
        2,
        CLUSTER_ADMIN,
        (0, 0, 0),
        "cluster",
        "3.0.0",
        "Forces the node to save cluster state on disk",
        no_cluster,
    ),
    row(
        "set-config-epoch",
        3,
        CLUSTER_ADMIN,
        (0, 0, 0),
        "cluster",
        "3.0.0",
        "Set the configuration epoch in a new node",
        no_cluster,
    ),
    row("setslot", -4, CLUSTER_ADMIN, (0, 0, 0), "cluster", "3.0.0", "Bind a hash slot to a specific node", no_cluster),
    row("shards", 2, STALE, (0, 0, 0), "cluster", "7.0.0", "Get array of cluster slots to node mappings", no_cluster)
        .tips(&["nondeterministic_output"]),
    row(
        "slaves",
        3,
        ADMIN | STALE,
        (0, 0, 0),
        "cluster",
        "3.0.0",
        "List replica nodes of the specified master node",
        no_cluster,
    )
    .tips(&["nondeterministic_output"]),
    row("slots", 2, STALE, (0, 0, 0), "cluster", "3.0.0", "Get array of Cluster slot to node mappings", no_cluster)
        .tips(&["nondeterministic_output"]),
];

const MODULE_FLAGS: u32 = ADMIN | NOSCRIPT | NO_ASYNC_LOADING | PROTECTED;

static MODULE_SUBCOMMANDS: &[Command] = &[
    row("load", -3, MODULE_FLAGS, (0, 0, 0), "server", "4.0.0", "Load a module", load),
    row("loadex", -3, MODULE_FLAGS, (0, 0, 0), "server", "7.0.0", "Load a module with extended parameters", load),
    row(
        "help",
        2,
        LOADING | STALE,
        (0, 0, 0),
        "server",
        "5.0.0",
        "Show helpful text about the different subcommands",
        help,
    ),
    row("list", 2, ADMIN | NOSCRIPT, (0, 0, 0), "server", "4.0.0", "List all modules loaded by the server", list)
        .tips(&["nondeterministic_output_order"]),
    row("unload", 3, MODULE_FLAGS, (0, 0, 0), "server", "4.0.0", "Unload a module", unload),
];

/// Redis's refusal of a MODULE subcommand `enable-module-command` does not
/// allow.
pub const NOT_ALLOWED: &str = "ERR MODULE command not allowed. If the enable-module-command option is set to \"local\", \
     you can run it from a local connection, otherwise you need to set this option in the configuration file, and then \
     restart the server.";

/// Whether client `key` may run MODULE LOAD/LOADEX/UNLOAD
/// (`enable-module-command`: `yes`, or `local` from loopback or the Unix
/// socket).
pub fn allowed(srv: &crate::server::state::Shared, key: usize) -> bool {
    match srv.config.get("enable-module-command").as_deref() {
        Some("yes") => true,
        Some("local") => srv.client(key).is_local(),
        _ => false,
    }
}

/// The refusal of a protected command (`top` its top-level name) that the
/// configuration does not allow client `key` to run (Redis's
/// `allowProtectedAction` for DEBUG and MODULE), if it does not.
pub fn protected_refusal(srv: &crate::server::state::Shared, key: usize, top: &str) -> Option<CmdError> {
    match top {
        "module" => (!allowed(srv, key)).then(|| CmdError::msg(NOT_ALLOWED)),
        _ => (!super::debug::allowed(srv, key)).then(|| CmdError::msg(super::debug::NOT_ALLOWED)),
    }
}

/// # Format
/// `READONLY`, `READWRITE`, `ASKING`, `CLUSTER subcommand [arg ...]` —
/// cluster commands, refused as by a Redis with `cluster-enabled no`.
fn no_cluster(_cx: &mut Ctx, _args: &Args) -> CmdResult {
    Err(CmdError::msg("ERR This instance has cluster support disabled"))
}

/// # Format
/// `MODULE LIST` — the loaded modules: none.
fn list(cx: &mut Ctx, _args: &Args) -> CmdResult {
    cx.out.array(0);
    Ok(())
}

/// # Format
/// `MODULE LOAD path [arg ...]`, `MODULE LOADEX path [CONFIG name value ...] [ARGS arg ...]`
/// — fails as Redis fails for a library it cannot load, the reason in the log.
fn load(cx: &mut Ctx, args: &Args) -> CmdResult {
    log::warn!("Module {} failed to load: ferrokv does not load modules", super::lossy(args.get(2)));
    let _ = cx;
    Err(CmdError::msg("ERR Error loading the extension. Please check the server logs."))
}

/// # Format
/// `MODULE UNLOAD name`
fn unload(_cx: &mut Ctx, _args: &Args) -> CmdResult {
    Err(CmdError::msg("ERR Error unloading module: no such module with that name"))
}

/// # Format
/// `MODULE HELP`
fn help(cx: &mut Ctx, _args: &Args) -> CmdResult {
    super::server::help(
        &mut cx.out,
        "MODULE",
        &[
            "LIST",
            "    Return a list of loaded modules.",
            "LOAD <path> [<arg> ...]",
            "    Load a module library from <path>, passing to it any optional arguments.",
            "LOADEX <path> [[CONFIG NAME VALUE] [CONFIG NAME VALUE]] [ARGS ...]",
            "    Load a module library from <path>, while passing it module configurations and optional arguments.",
            "UNLOAD <name>",
            "    Unload a module.",
        ],
    );
    Ok(())
}
