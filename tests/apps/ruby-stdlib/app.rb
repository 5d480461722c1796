# A small legacy billing app (Ruby standard library only).
require_relative "lib/invoice"

if ARGV.include?("--self-test")
  invoice = Invoice.new("INV-001").add("widget", 3, 250).add("gadget", 1, 1999)
  puts "ruby-app: total #{format('%.2f', invoice.total_cents / 100.0)}"
  puts "ruby-app: json #{invoice.to_json}"
  puts "ruby-app: checksum #{invoice.checksum}"
else
  warn "usage: ruby app.rb --self-test"
  exit 2
end
