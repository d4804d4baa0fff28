package dev.outpost.edge.state;

/** The naming rules for namespaces and document ids; a name that breaks them is refused before anything is read. */
final class StateNames {
    private StateNames() {}

    static void check(String namespace, String id) {
        checkNamespace(namespace);
        if (id == null
                || id.isEmpty()
                || id.length() > StateService.ID_CHARS_MAX
                || !id.chars().allMatch(StateNames::idChar)) {
            throw new StateRefusal(
                    StateRefusal.Kind.INVALID_ID,
                    "id must be 1-" + StateService.ID_CHARS_MAX + " characters of A-Z a-z 0-9 . _ - :",
                    "id");
        }
    }

    static void checkNamespace(String namespace) {
        if (!dev.outpost.edge.ingest.EventParser.validName(namespace)) {
            throw new StateRefusal(
                    StateRefusal.Kind.INVALID_NAMESPACE,
                    "namespace must be 1-128 characters of A-Z a-z 0-9 . _ -",
                    "namespace");
        }
    }

    private static boolean idChar(int c) {
        return c >= 'a' && c <= 'z'
                || c >= 'A' && c <= 'Z'
                || c >= '0' && c <= '9'
                || c == '.'
                || c == '_'
                || c == '-'
                || c == ':';
    }
}
