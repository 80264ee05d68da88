//! The config parser: any bytes give a config or an error; a config that
//! parses answers every question about itself without panicking.
#![no_main]

use incident::config::Config;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let file = "incidents/config.toml";
    let Ok(text) = incident::tomlfile::text(file, data) else {
        return;
    };
    if let Ok(config) = Config::parse(file, text) {
        let _ = config.zone();
        let _ = config.closing_milestones();
        for name in config.state_names() {
            let _ = config.is_open(&name);
            let _ = config.check_state(&name);
        }
        for name in config.severity_names() {
            let _ = config.severity_rank(&name);
        }
    }
});
