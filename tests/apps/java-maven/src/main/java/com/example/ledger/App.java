package com.example.ledger;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.zip.CRC32;

/** A small legacy ledger tool: totals expenses per category (Java standard library only). */
public final class App {
    record Entry(String category, String description, long cents) {}

    static final List<Entry> LEDGER = List.of(
            new Entry("rent", "March rent", 120_000),
            new Entry("utilities", "power", 8_500),
            new Entry("utilities", "water", 4_000),
            new Entry("office", "paper", 1_250),
            new Entry("office", "toner", 6_999));

    static Map<String, Long> totals(List<Entry> entries) {
        Map<String, Long> totals = new TreeMap<>();
        for (Entry entry : entries) {
            totals.merge(entry.category(), entry.cents(), Long::sum);
        }
        return totals;
    }

    static String amount(long cents) {
        return String.format("%d.%02d", cents / 100, cents % 100);
    }

    public static void main(String[] args) {
        if (args.length != 1 || !args[0].equals("--self-test")) {
            System.err.println("usage: java -jar ledger.jar --self-test");
            System.exit(2);
        }
        StringBuilder report = new StringBuilder();
        long grandTotal = 0;
        for (Map.Entry<String, Long> total : totals(LEDGER).entrySet()) {
            report.append(String.format("java-app: %-10s %9s%n", total.getKey(), amount(total.getValue())));
            grandTotal += total.getValue();
        }
        report.append(String.format("java-app: %-10s %9s%n", "total", amount(grandTotal)));
        CRC32 crc = new CRC32();
        crc.update(report.toString().getBytes(StandardCharsets.UTF_8));
        System.out.print(report);
        System.out.printf("java-app: crc32 %08x%n", crc.getValue());
    }
}
