//! A hello-world Tauri v2 app: the baseline of tests/bench/app/run.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

fn main() {
    tauri::Builder::default()
        .run(tauri::generate_context!())
        .expect("hello-world could not start its window");
}
