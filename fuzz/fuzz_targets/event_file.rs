//! Event files and incident.toml: any bytes give a value or an error, and
//! an event that parses writes back to the same event.
#![no_main]

use incident::model::event::{Declaration, Event};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let file = "incidents/2026/11/abcdef-x/events/e.toml";
    let Ok(text) = incident::tomlfile::text(file, data) else {
        return;
    };
    if let Ok(event) = Event::parse(file, "20261124T031502Z-abcdef-note", text) {
        let written = event.to_toml().expect("a parsed event can be written");
        let back = Event::parse(file, &event.id, &written).expect("a written event parses");
        assert_eq!(back, event);
    }
    if let Ok(declaration) = Declaration::parse(file, text) {
        let written = declaration.to_toml().expect("a parsed declaration can be written");
        Declaration::parse(file, &written).expect("a written declaration parses");
    }
});
