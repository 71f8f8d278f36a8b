//! Arbitrary bytes (made text with `String::from_utf8_lossy`) through `quarry_kql::parse`: it
//! must never panic, hang or overflow the stack. When a parse yields no diagnostics at all, the
//! pretty-printed tree must parse again without errors too.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let parsed = quarry_kql::parse(&text);
    if parsed.diagnostics.is_empty() {
        let printed = quarry_kql::print(&parsed.query);
        let reparsed = quarry_kql::parse(&printed);
        assert!(
            reparsed.is_ok(),
            "printed text does not parse: {:?}\n--- input ---\n{text}\n--- printed ---\n{printed}",
            reparsed.diagnostics
        );
    }
});
