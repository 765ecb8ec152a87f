//! libFuzzer target: arbitrary bytes as the body of a v2–v5 `POST …/Action` request (see `check_action_body`).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    vault365_fuzz::check_action_body(data);
});
