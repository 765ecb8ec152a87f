//! libFuzzer target: arbitrary bytes as a tree of backed-up folder and file names put into one ZIP (see
//! `check_zip_names`).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    vault365_fuzz::check_zip_names(data);
});
