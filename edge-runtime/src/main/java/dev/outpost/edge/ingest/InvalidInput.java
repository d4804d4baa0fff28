package dev.outpost.edge.ingest;

/**
 * An ingest request is wrong: thrown by the parser and the dedup check deep inside a step, and answered by {@link
 * IngestPipeline} as {@link IngestOutcome.Invalid}. Carries no stack trace (it is a normal answer, not a failure).
 */
public final class InvalidInput extends RuntimeException {
    private final IngestOutcome.Fault fault;
    private final int line;
    private final String field;

    /**
     * @param reason a sentence for the client
     * @param line the 1-based line of an NDJSON batch at fault, or 0
     * @param field the field at fault, or null
     */
    public InvalidInput(IngestOutcome.Fault fault, String reason, int line, String field) {
        super(reason, null, false, false);
        this.fault = fault;
        this.line = line;
        this.field = field;
    }

    public IngestOutcome.Fault fault() {
        return fault;
    }

    /** 1-based line of the NDJSON batch at fault, or 0. */
    public int line() {
        return line;
    }

    /** The field at fault, or null. */
    public String field() {
        return field;
    }

    /** As the pipeline answers it. */
    public IngestOutcome.Invalid outcome() {
        return new IngestOutcome.Invalid(fault, line, field, getMessage());
    }
}
