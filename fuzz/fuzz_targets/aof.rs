//! An append-only file's two parsers on arbitrary bytes: the manifest
//! (`Manifest::parse`, as text) and the command stream of a `.incr.aof`
//! or `.base.aof` file (`read_command`, RESP arrays and `#` annotations).
//! Both must give a value or an error, never a panic or a loop; a parsed
//! manifest formats and parses back to itself (when its lines fit); the commands read, written
//! again as Redis writes them, read back to the same commands.
#![no_main]

use ferrokv::persist::aof::{Manifest, ReadError, read_command};
use ferrokv::persist::propagate::write_command;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(m) = Manifest::parse(&String::from_utf8_lossy(data)) {
        // Lines of 1,024 bytes or more do not fit Redis's reader (a name
        // written with many `\xHH` escapes can get there).
        let text = m.format();
        if text.lines().all(|l| l.len() < 1024) {
            assert_eq!(Manifest::parse(&text).as_ref(), Ok(&m));
        }
    }
    let (mut pos, mut cmds) = (0, Vec::new());
    let end = loop {
        let before = pos;
        match read_command(data, &mut pos) {
            Ok(Some(argv)) => {
                assert!(pos > before, "a command was read without moving on");
                cmds.push(argv);
            }
            Ok(None) => break None,
            Err(e) => break Some(e),
        }
    };
    match end {
        Some(ReadError::Truncated { valid_up_to }) => assert!(valid_up_to <= data.len()),
        Some(ReadError::Format { offset }) => assert!(offset <= data.len()),
        None => assert_eq!(pos, data.len()),
    }
    let mut again = Vec::new();
    for argv in &cmds {
        write_command(&mut again, argv);
    }
    let mut p = 0;
    for argv in &cmds {
        assert_eq!(read_command(&again, &mut p).as_ref(), Ok(&Some(argv.clone())));
    }
    assert_eq!(read_command(&again, &mut p), Ok(None));
});
