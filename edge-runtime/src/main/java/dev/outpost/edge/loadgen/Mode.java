package dev.outpost.edge.loadgen;

/** What each request of a load run does; {@code cli} is its {@code --mode} spelling. */
enum Mode {
    SINGLE("single"),
    BATCH("batch"),
    STATE_PUT("state-put"),
    STATE_GET("state-get");

    final String cli;

    Mode(String cli) {
        this.cli = cli;
    }

    static Mode of(String s) {
        for (Mode m : values()) {
            if (m.cli.equals(s)) {
                return m;
            }
        }
        throw new IllegalArgumentException("--mode must be single, batch, state-put, state-get or fleet, not " + s);
    }

    boolean state() {
        return this == STATE_PUT || this == STATE_GET;
    }
}
