//! `cargo run -p madoguchi-dialplan --example check -- FILE [RFC3339]`: check a dialplan and
//! optionally simulate a call (a stand-in for the root binary's `dialplan` commands).
use std::path::Path;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let Some(file) = args.get(1) else {
        eprintln!("usage: check FILE [RFC3339]");
        std::process::exit(2);
    };
    match madoguchi_dialplan::Dialplan::load(Path::new(file)) {
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(1);
        }
        Ok(d) => {
            if let Some(at) = args.get(2) {
                match chrono::DateTime::parse_from_rfc3339(at) {
                    Ok(at) => {
                        let sim = d.simulate("0120000000", at.with_timezone(&chrono::Utc));
                        print!("{sim}");
                        println!("{}", serde_json::to_string(&sim).unwrap_or_default());
                    }
                    Err(e) => eprintln!("bad instant: {e}"),
                }
            } else {
                println!("ok");
            }
        }
    }
}
