# Invoices for the legacy billing app: line items, totals and a JSON export.
require "json"
require "digest"

class Invoice
  Line = Struct.new(:description, :quantity, :unit_cents)

  def initialize(number)
    @number = number
    @lines = []
  end

  def add(description, quantity, unit_cents)
    @lines << Line.new(description, quantity, unit_cents)
    self
  end

  def total_cents
    @lines.sum { |line| line.quantity * line.unit_cents }
  end

  def to_json(*_args)
    JSON.generate(number: @number, lines: @lines.map(&:to_h), total_cents: total_cents)
  end

  def checksum
    Digest::SHA256.hexdigest(to_json)[0, 16]
  end
end
