//! Time expressions as people type them: a time or an error, never a panic.
#![no_main]

use incident::time::{Zone, parse_relative, parse_time};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&selector, rest)) = data.split_first() else {
        return;
    };
    let Ok(input) = std::str::from_utf8(rest) else {
        return;
    };
    let zone_name = match selector % 4 {
        0 => "UTC",
        1 => "Europe/Berlin",
        2 => "America/St_Johns",
        _ => "Australia/Lord_Howe",
    };
    let Some(zone) = Zone::parse(zone_name) else {
        return;
    };
    let now = chrono::DateTime::parse_from_rfc3339("2026-03-29T01:30:00+01:00").expect("valid now");
    if let Ok(t) = parse_time(input, now, &zone) {
        let _ = zone.long(&t);
        let _ = zone.short(&t);
    }
    let _ = parse_relative(input);
});
