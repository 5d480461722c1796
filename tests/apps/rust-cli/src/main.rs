//! A small legacy report tool: totals a few ledger lines and formats the numbers with `itoa`.

const LEDGER: &[(&str, u64)] = &[("rent", 1_200), ("power", 85), ("water", 40), ("internet", 55)];

fn format_amount(value: u64) -> String {
    let mut buffer = itoa::Buffer::new();
    buffer.format(value).to_string()
}

fn main() {
    if std::env::args().any(|a| a == "--self-test") {
        let total: u64 = LEDGER.iter().map(|(_, amount)| amount).sum();
        for (name, amount) in LEDGER {
            println!("rust-app: {name:<8} {:>6}", format_amount(*amount));
        }
        println!("rust-app: total    {:>6}", format_amount(total));
    } else {
        eprintln!("usage: report --self-test");
        std::process::exit(2);
    }
}
