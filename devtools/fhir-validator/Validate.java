// HAPI FHIR's instance validator, offline, over JSON files; one JVM for every file.
//
//   java -cp 'infra/fhir-validator/lib/*' infra/fhir-validator/Validate.java \
//        [--terminology FILE.json]... --version R5 a.json b.json --version R4B c.json
//
// `--terminology` files are Bundles (or single resources) of CodeSystem / ValueSet
// resources added to the validator's in-memory terminology before validation (they apply
// to the version in force when they are named). No terminology server is configured: codes
// are checked against the core packages, HAPI's built-in common code systems and the files
// given here, so nothing is fetched over the network.
//
// Prints one JSON array: {"file", "version", "severity", "location", "message"} per issue
// (severity: fatal, error, warning, information). Exit 0 when validation ran, 2 on bad usage.

import ca.uhn.fhir.context.FhirContext;
import ca.uhn.fhir.context.support.DefaultProfileValidationSupport;
import ca.uhn.fhir.util.BundleUtil;
import ca.uhn.fhir.validation.FhirValidator;
import ca.uhn.fhir.validation.SingleValidationMessage;
import ca.uhn.fhir.validation.ValidationResult;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.hl7.fhir.common.hapi.validation.support.CommonCodeSystemsTerminologyService;
import org.hl7.fhir.common.hapi.validation.support.InMemoryTerminologyServerValidationSupport;
import org.hl7.fhir.common.hapi.validation.support.PrePopulatedValidationSupport;
import org.hl7.fhir.common.hapi.validation.support.SnapshotGeneratingValidationSupport;
import org.hl7.fhir.common.hapi.validation.support.ValidationSupportChain;
import org.hl7.fhir.common.hapi.validation.validator.FhirInstanceValidator;
import org.hl7.fhir.instance.model.api.IBaseBundle;
import org.hl7.fhir.instance.model.api.IBaseResource;

public class Validate {
    static final class Target {
        final FhirContext context;
        final PrePopulatedValidationSupport local;
        FhirValidator validator;

        Target(String version) {
            context = "R4B".equals(version) ? FhirContext.forR4B() : FhirContext.forR5();
            local = new PrePopulatedValidationSupport(context);
        }

        FhirValidator validator() {
            if (validator == null) {
                ValidationSupportChain chain = new ValidationSupportChain(
                        local,
                        new DefaultProfileValidationSupport(context),
                        new CommonCodeSystemsTerminologyService(context),
                        new InMemoryTerminologyServerValidationSupport(context),
                        new SnapshotGeneratingValidationSupport(context));
                validator = context.newValidator();
                validator.registerValidatorModule(new FhirInstanceValidator(chain));
            }
            return validator;
        }

        void addTerminology(String text) {
            IBaseResource parsed = context.newJsonParser().parseResource(text);
            List<IBaseResource> found = new ArrayList<>();
            if (parsed instanceof IBaseBundle bundle) {
                found.addAll(BundleUtil.toListOfResources(context, bundle));
            } else {
                found.add(parsed);
            }
            for (IBaseResource resource : found) {
                String kind = context.getResourceType(resource);
                if ("CodeSystem".equals(kind)) {
                    local.addCodeSystem(resource);
                } else if ("ValueSet".equals(kind)) {
                    local.addValueSet(resource);
                }
            }
        }
    }

    public static void main(String[] args) throws Exception {
        Map<String, Target> targets = new LinkedHashMap<>();
        Target current = null;
        String version = null;
        StringBuilder out = new StringBuilder("[");
        boolean first = true;
        for (int i = 0; i < args.length; i++) {
            String arg = args[i];
            if ("--version".equals(arg) && i + 1 < args.length) {
                version = args[++i];
                if (!"R4B".equals(version) && !"R5".equals(version)) {
                    System.err.println("--version must be R4B or R5, not " + version);
                    System.exit(2);
                }
                current = targets.computeIfAbsent(version, Target::new);
            } else if (current == null) {
                System.err.println("name --version R4B|R5 before any file");
                System.exit(2);
            } else if ("--terminology".equals(arg) && i + 1 < args.length) {
                current.addTerminology(Files.readString(Path.of(args[++i]), StandardCharsets.UTF_8));
            } else {
                String text = Files.readString(Path.of(arg), StandardCharsets.UTF_8);
                long started = System.nanoTime();
                ValidationResult result = current.validator().validateWithResult(text);
                if (System.getenv("FHIR_VALIDATOR_TIMING") != null) {
                    System.err.printf("%s %s: %d ms%n", version, arg,
                            (System.nanoTime() - started) / 1_000_000);
                }
                for (SingleValidationMessage message : result.getMessages()) {
                    out.append(first ? "\n" : ",\n");
                    first = false;
                    out.append("{\"file\":").append(quote(arg))
                            .append(",\"version\":").append(quote(version))
                            .append(",\"severity\":")
                            .append(quote(message.getSeverity().getCode()))
                            .append(",\"location\":").append(quote(message.getLocationString()))
                            .append(",\"message\":").append(quote(message.getMessage()))
                            .append("}");
                }
            }
        }
        out.append("\n]");
        System.out.println(out);
    }

    static String quote(String value) {
        if (value == null) {
            return "null";
        }
        StringBuilder s = new StringBuilder("\"");
        for (char c : value.toCharArray()) {
            switch (c) {
                case '"' -> s.append("\\\"");
                case '\\' -> s.append("\\\\");
                case '\n' -> s.append("\\n");
                case '\r' -> s.append("\\r");
                case '\t' -> s.append("\\t");
                default -> {
                    if (c < 0x20) {
                        s.append(String.format("\\u%04x", (int) c));
                    } else {
                        s.append(c);
                    }
                }
            }
        }
        return s.append('"').toString();
    }
}
