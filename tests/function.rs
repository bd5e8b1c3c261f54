//! Functions (#19): FUNCTION LOAD/LIST/DELETE/FLUSH/STATS/KILL/HELP and
//! FCALL/FCALL_RO through a real connection. Every expected reply was
//! recorded from redis-server 7.0.15 with the same commands in the same
//! order on a fresh server.

mod common;

use common::{Raw, q};
use std::io::Read;

fn resp(args: &[&str]) -> Vec<u8> {
    let mut out = format!("*{}\r\n", args.len()).into_bytes();
    for a in args {
        out.extend_from_slice(format!("${}\r\n", a.len()).as_bytes());
        out.extend_from_slice(a.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    out
}

fn check(raw: &mut Raw, cases: &[(&[&str], &[u8])]) {
    for (args, want) in cases {
        raw.send(&resp(args));
        let mut got = vec![0; want.len()];
        raw.0.read_exact(&mut got).unwrap_or_else(|e| panic!("{args:?}: {e}"));
        assert_eq!(String::from_utf8_lossy(&got), String::from_utf8_lossy(want), "{args:?}");
    }
    raw.roundtrip(b"PING\r\n", b"+PONG\r\n");
}

#[test]
fn functions_behave_as_redis_s() {
    let s = common::server();
    let mut raw = s.raw();
    // Recorded from redis-server 7.0.15.
    const CASES: &[(&[&str], &[u8])] = &[
        (&["function", "load", "#!lua name=mylib\nredis.register_function('myfunc', function(keys, args) return {keys[1], args[1]} end)"], b"$5\r\nmylib\r\n"),
        (&["fcall", "myfunc", "1", "k", "a"], b"*2\r\n$1\r\nk\r\n$1\r\na\r\n"),
        (&["fcall_ro", "myfunc", "1", "k", "a"], b"-ERR Can not execute a script with write flag using *_ro command.\r\n"),
        (&["function", "load", "#!lua name=mylib\nredis.register_function('myfunc', function(keys, args) return 1 end)"], b"-ERR Library 'mylib' already exists\r\n"),
        (&["function", "load", "replace", "#!lua name=mylib\nredis.register_function('myfunc', function(keys, args) return 2 end)"], b"$5\r\nmylib\r\n"),
        (&["fcall", "myfunc", "0"], b":2\r\n"),
        (&["function", "load", "foo", "#!lua name=mylib\nredis.register_function('myfunc', function(keys, args) return 2 end)"], b"-ERR Unknown option given: foo\r\n"),
        (&["function", "load", "return 1"], b"-ERR Missing library metadata\r\n"),
        (&["function", "load", "#!lua\nreturn 1"], b"-ERR Library name was not given\r\n"),
        (&["function", "load", "#!lua name=x foo=bar\nreturn 1"], b"-ERR Invalid metadata value given: foo=bar\r\n"),
        (&["function", "load", "#!lux name=x\nreturn 1"], b"-ERR Engine 'lux' not found\r\n"),
        (&["function", "load", "#!lua name=a-b\nreturn 1"], b"-ERR Library names can only contain letters, numbers, or underscores(_) and must be at least one character long\r\n"),
        (&["function", "load", "#!lua name=empty\nreturn 1"], b"-ERR No functions registered\r\n"),
        (&["function", "load", "#!lua name=dup\nredis.register_function('myfunc', function() return 1 end)"], b"-ERR Function myfunc already exists\r\n"),
        (&["function", "load", "#!lua name=bad\nredis.register_function('my-func', function() return 1 end)"], b"-ERR Error registering functions: ERR Library names can only contain letters, numbers, or underscores(_) and must be at least one character long\r\n"),
        (&["function", "load", "#!lua name=g\nx = 1"], b"-ERR Error registering functions: ERR user_function:2: Attempt to modify a readonly table\r\n"),
        (&["function", "load", "#!lua name=c\nredis.call('set','a','b')"], b"-ERR Error registering functions: ERR user_function:2: Script attempted to access nonexistent global variable 'call'\r\n"),
        (&["function", "load", "#!lua name=c\nreturn +"], b"-ERR Error compiling function: user_function:2: unexpected symbol near '+'\r\n"),
        (&["function", "load", "#!lua name=t\nredis.register_function{function_name='ro', callback=function(k,a) return redis.call('get', k[1]) end, flags={'no-writes'}, description='read only'}"], b"$1\r\nt\r\n"),
        (&["fcall_ro", "ro", "1", "a"], b"$-1\r\n"),
        (&["fcall", "nosuch", "0"], b"-ERR Function not found\r\n"),
        (&["fcall", "myfunc", "-1"], b"-ERR Number of keys can't be negative\r\n"),
        (&["fcall", "myfunc", "3", "a"], b"-ERR Number of keys can't be greater than number of args\r\n"),
        (&["fcall", "myfunc", "x"], b"-ERR Bad number of keys provided\r\n"),
        (&["function", "list", "withcode", "libraryname", "my"], b"*0\r\n"),
        (&["function", "list", "libraryname", "zzz"], b"*0\r\n"),
        (&["function", "list", "foo"], b"-ERR Unknown argument foo\r\n"),
        (&["function", "list", "libraryname"], b"-ERR library name argument was not given\r\n"),
        (&["function", "list", "withcode", "withcode"], b"-ERR Unknown argument withcode\r\n"),
        (&["function", "delete", "nosuch"], b"-ERR Library not found\r\n"),
        (&["function", "stats"], b"*4\r\n$14\r\nrunning_script\r\n$-1\r\n$7\r\nengines\r\n*2\r\n$3\r\nLUA\r\n*4\r\n$15\r\nlibraries_count\r\n:2\r\n$15\r\nfunctions_count\r\n:2\r\n"),
        (&["function", "kill"], b"-NOTBUSY No scripts in execution right now.\r\n"),
        (&["function", "help"], b"*40\r\n+FUNCTION <subcommand> [<arg> [value] [opt] ...]. Subcommands are:\r\n+LOAD [REPLACE] <FUNCTION CODE>\r\n+    Create a new library with the given library name and code.\r\n+DELETE <LIBRARY NAME>\r\n+    Delete the given library.\r\n+LIST [LIBRARYNAME PATTERN] [WITHCODE]\r\n+    Return general information on all the libraries:\r\n+    * Library name\r\n+    * The engine used to run the Library\r\n+    * Library description\r\n+    * Functions list\r\n+    * Library code (if WITHCODE is given)\r\n+    It also possible to get only function that matches a pattern using LIBRARYNAME argument.\r\n+STATS\r\n+    Return information about the current function running:\r\n+    * Function name\r\n+    * Command used to run the function\r\n+    * Duration in MS that the function is running\r\n+    If no function is running, return nil\r\n+    In addition, returns a list of available engines.\r\n+KILL\r\n+    Kill the current running function.\r\n+FLUSH [ASYNC|SYNC]\r\n+    Delete all the libraries.\r\n+    When called without the optional mode argument, the behavior is determined by the\r\n+    lazyfree-lazy-user-flush configuration directive. Valid modes are:\r\n+    * ASYNC: Asynchronously flush the libraries.\r\n+    * SYNC: Synchronously flush the libraries.\r\n+DUMP\r\n+    Return a serialized payload representing the current libraries, can be restored using FUNCTION RESTORE command\r\n+RESTORE <PAYLOAD> [FLUSH|APPEND|REPLACE]\r\n+    Restore the libraries represented by the given payload, it is possible to give a restore policy to\r\n+    control how to handle existing libraries (default APPEND):\r\n+    * FLUSH: delete all existing libraries.\r\n+    * APPEND: appends the restored libraries to the existing libraries. On collision, abort.\r\n+    * REPLACE: appends the restored libraries to the existing libraries, On collision, replace the old\r\n+      libraries with the new libraries (notice that even on this option there is a chance of failure\r\n+      in case of functions name collision with another library).\r\n+HELP\r\n+    Prints this help.\r\n"),
        (&["function", "load", "#!lua name=e\nredis.register_function('fe', function(k,a) error('boom') end)"], b"$1\r\ne\r\n"),
        (&["fcall", "fe", "0"], b"-ERR user_function:2: boom script: fe, on @user_function:2.\r\n"),
        (&["function", "load", "#!lua name=e2\nredis.register_function('fe2', function(k,a) return x end)"], b"$2\r\ne2\r\n"),
        (&["fcall", "fe2", "0"], b"-ERR user_function:2: Script attempted to access nonexistent global variable 'x' script: fe2, on @user_function:2.\r\n"),
        (&["function", "load", "#!lua name=e3\nredis.register_function('fe3', function(k,a) return redis.call('nosuch') end)"], b"$2\r\ne3\r\n"),
        (&["fcall", "fe3", "0"], b"-ERR Unknown Redis command called from script script: fe3, on @user_function:2.\r\n"),
        (&["function", "load", "#!lua name=w\nredis.register_function('fw', function(k,a) return redis.call('set', k[1], a[1]) end)"], b"$1\r\nw\r\n"),
        (&["fcall", "fw", "1", "wk", "wv"], b"+OK\r\n"),
        (&["fcall_ro", "fw", "1", "wk", "wv"], b"-ERR Can not execute a script with write flag using *_ro command.\r\n"),
        (&["get", "wk"], b"$2\r\nwv\r\n"),
        (&["function", "load", "#!lua name=x\nredis.register_function()"], b"-ERR Error registering functions: ERR wrong number of arguments to redis.register_function\r\n"),
        (&["function", "load", "#!lua name=x\nredis.register_function('a')"], b"-ERR Error registering functions: ERR calling redis.register_function with a single argument is only applicable to Lua table (representing named arguments).\r\n"),
        (&["function", "load", "#!lua name=x\nredis.register_function('a', 5)"], b"-ERR Error registering functions: ERR second argument to redis.register_function must be a function\r\n"),
        (&["function", "load", "#!lua name=x\nredis.register_function(5, function() end)"], b"$1\r\nx\r\n"),
        (&["function", "load", "#!lua name=x\nredis.register_function{function_name='a', callback=function() end, flags={'bad'}}"], b"-ERR Library 'x' already exists\r\n"),
        (&["function", "load", "#!lua name=x\nredis.register_function{function_name='a', callback=function() end, flags='no-writes'}"], b"-ERR Library 'x' already exists\r\n"),
        (&["function", "load", "#!lua name=x\nredis.register_function{function_name='a', callback=function() end, foo=1}"], b"-ERR Library 'x' already exists\r\n"),
        (&["function", "load", "#!lua name=x\nredis.register_function{callback=function() end}"], b"-ERR Library 'x' already exists\r\n"),
        (&["function", "load", "#!lua name=x\nredis.register_function{function_name='a'}"], b"-ERR Library 'x' already exists\r\n"),
        (&["function", "load", "#!lua name=x\nredis.register_function('a', function() end) redis.register_function('a', function() end)"], b"-ERR Library 'x' already exists\r\n"),
        (&["function", "load", "#!lua name=x\nreturn redis.setresp(3)"], b"-ERR Library 'x' already exists\r\n"),
        (&["function", "delete", "e"], b"+OK\r\n"),
        (&["function", "stats"], b"*4\r\n$14\r\nrunning_script\r\n$-1\r\n$7\r\nengines\r\n*2\r\n$3\r\nLUA\r\n*4\r\n$15\r\nlibraries_count\r\n:6\r\n$15\r\nfunctions_count\r\n:6\r\n"),
        (&["function", "flush", "foo"], b"-ERR FUNCTION FLUSH only supports SYNC|ASYNC option\r\n"),
        (&["function", "flush", "sync", "x"], b"-ERR unknown subcommand or wrong number of arguments for 'flush'. Try FUNCTION HELP.\r\n"),
        (&["function", "flush"], b"+OK\r\n"),
        (&["fcall", "myfunc", "0"], b"-ERR Function not found\r\n"),
        (&["command", "getkeys", "fcall", "f", "2", "a", "b", "c"], b"*2\r\n$1\r\na\r\n$1\r\nb\r\n"),
        (&["command", "getkeys", "fcall", "f", "0"], b"*0\r\n"),
    ];
    check(&mut raw, CASES);
}

#[test]
fn function_list_in_resp3_and_info_counts() {
    let s = common::server();
    let mut c = s.client();
    let lib: String = q(
        &mut c,
        &["FUNCTION", "LOAD", "#!lua name=lib1\nredis.register_function('f1', function(k, a) return #k + #a end)"],
    );
    assert_eq!(lib, "lib1");
    let n: i64 = q(&mut c, &["FCALL", "f1", "2", "a", "b", "c"]);
    assert_eq!(n, 3);
    let info: String = q(&mut c, &["INFO", "memory"]);
    assert!(info.contains("number_of_functions:1\r\nnumber_of_libraries:1\r\n"), "{info}");
    let mut raw = s.raw();
    raw.hello3();
    // Recorded from redis-server 7.0.15.
    raw.roundtrip(
        b"FUNCTION LIST\r\n",
        b"*1\r\n%3\r\n$12\r\nlibrary_name\r\n$4\r\nlib1\r\n$6\r\nengine\r\n$3\r\nLUA\r\n$9\r\nfunctions\r\n\
          *1\r\n%3\r\n$4\r\nname\r\n$2\r\nf1\r\n$11\r\ndescription\r\n_\r\n$5\r\nflags\r\n~0\r\n",
    );
    // SCRIPT FLUSH leaves functions alone.
    let _: () = q(&mut c, &["SCRIPT", "FLUSH"]);
    let n: i64 = q(&mut c, &["FCALL", "f1", "0"]);
    assert_eq!(n, 0);
    // Without the no-writes flag a function is a write function.
    assert_eq!(
        common::err(&mut c, &["FCALL_RO", "f1", "0"]),
        "ERR Can not execute a script with write flag using *_ro command."
    );
}
