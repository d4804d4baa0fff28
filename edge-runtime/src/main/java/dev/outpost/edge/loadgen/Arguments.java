package dev.outpost.edge.loadgen;

import java.util.Set;
import java.util.function.BiConsumer;

/** The load generator's command line: {@code --name value}, {@code --name=value} and value-less flags. */
final class Arguments {
    private Arguments() {}

    /**
     * Hands each option of {@code args} to {@code set} as (name, value) in order, a flag of {@code flags} with the value
     * {@code true}; returns false, having handed nothing more, at {@code --help} or {@code -h}.
     *
     * @throws IllegalArgumentException for an argument that is not an option, or an option without its value
     */
    static boolean scan(String[] args, Set<String> flags, BiConsumer<String, String> set) {
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            if (a.equals("--help") || a.equals("-h")) {
                return false;
            }
            if (!a.startsWith("--")) {
                throw new IllegalArgumentException("unexpected argument: " + a);
            }
            int eq = a.indexOf('=');
            if (eq > 0) {
                set.accept(a.substring(2, eq), a.substring(eq + 1));
            } else if (flags.contains(a.substring(2))) {
                set.accept(a.substring(2), "true");
            } else {
                String name = a.substring(2);
                if (i + 1 >= args.length) {
                    throw new IllegalArgumentException("missing value for --" + name);
                }
                set.accept(name, args[++i]);
            }
        }
        return true;
    }
}
