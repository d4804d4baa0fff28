package com.sun.tools.javac.api;

import java.io.InputStream;
import java.io.OutputStream;
import java.io.Writer;
import java.nio.charset.Charset;
import java.util.Locale;
import java.util.Set;
import javax.lang.model.SourceVersion;
import javax.tools.DiagnosticListener;
import javax.tools.JavaCompiler;
import javax.tools.JavaFileManager;
import javax.tools.JavaFileObject;
import javax.tools.StandardJavaFileManager;

/**
 * Stands in for javac in the device distribution, whose runtime leaves the jdk.compiler module out
 * (issue #15 point 5: 2.8 MB of the tarball).
 *
 * <p>Design note. Chronicle Values' {@code ValueModel} touches {@code net.openhft.compiler.CompilerUtils},
 * whose static initialiser asks {@code ToolProvider} for the system compiler and, finding none, loads
 * this class by name ({@code com.sun.tools.javac.api.JavacTool.create()}); without any such class it
 * throws and Chronicle Map cannot create a map. Nothing is compiled at run time: the one class Chronicle
 * Map would generate ({@code VanillaGlobalMutableState$$Native}) ships pre-generated in the store
 * module. Invariant: this class is only ever on the class path of a runtime without jdk.compiler
 * (bin/outpost of the distribution); on a full JDK the module owns this package and javac is found
 * first. Should anything try to compile after all, it fails here with a message saying why.
 */
public final class JavacTool implements JavaCompiler {
    private static final String ABSENT =
            "the Outpost distribution's runtime has no Java compiler (module jdk.compiler left out): "
                    + "a class Chronicle would generate at run time must ship pre-generated";

    private JavacTool() {}

    /** What {@code CompilerUtils} calls reflectively. */
    public static JavacTool create() {
        return new JavacTool();
    }

    @Override
    public CompilationTask getTask(
            Writer out,
            JavaFileManager fileManager,
            DiagnosticListener<? super JavaFileObject> diagnosticListener,
            Iterable<String> options,
            Iterable<String> classes,
            Iterable<? extends JavaFileObject> compilationUnits) {
        throw new UnsupportedOperationException(ABSENT);
    }

    @Override
    public StandardJavaFileManager getStandardFileManager(
            DiagnosticListener<? super JavaFileObject> diagnosticListener, Locale locale, Charset charset) {
        throw new UnsupportedOperationException(ABSENT);
    }

    @Override
    public int isSupportedOption(String option) {
        return -1;
    }

    @Override
    public int run(InputStream in, OutputStream out, OutputStream err, String... arguments) {
        throw new UnsupportedOperationException(ABSENT);
    }

    @Override
    public Set<SourceVersion> getSourceVersions() {
        return Set.of();
    }
}
