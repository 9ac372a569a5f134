#!/usr/bin/env bash
# Builds the OpenFaaS function image of cifar-serve OFFLINE (no image registry, no Docker daemon):
#   openfaas/target/cifar-serve-function.tar   (a `docker save` archive: `docker load -i` it)
#
# The image is assembled from scratch (no base image), in four layers, least often changed first:
#   base     /opt/java        a jlink runtime of the build JDK (17) with only the modules the service needs
#            /lib, /lib64     the host's glibc, libstdc++, libgcc_s, libz, ... found with ldd (nothing else)
#            /etc/passwd      uid 12000 "app" with home /tmp; /tmp (1777)
#   natives  /app/native      ONNX Runtime's linux-x64 library, unpacked from the jar at build time and
#                             loaded in place (-Donnxruntime.native.path); for the node's jar also
#                             ND4J's, OpenBLAS's and JavaCPP's (see step 4)
#   models   /app/models      the model artifact(s) from models/ (<version>.onnx + .json; the node's image
#                             also the DL4J <version>.zip)
#   app      /app/cifar-serve.jar (without the natives), /app/conf/openfaas.json
# The function's jar is verticles/serving/'s cifar-serve-function.jar: no DL4J, ND4J, OpenBLAS or Hazelcast; the
# build fails if any of their classes or libraries ends up in the image (step 7).
# Entrypoint: function mode, no arguments; runs as uid 12000; only /tmp is written (read-only root fs).
#
# Run from the repository root (or anywhere: it cds there). Idempotent: everything is rebuilt under
# openfaas/target/. Needs root (or unprivileged user namespaces) for the chroot step.
# Environment knobs:
#   JAR=path        use this jar instead of verticles/serving/target/cifar-serve-function.jar (built if missing)
#   IMAGE=name:tag  image name written into the archive (default cifar-serve-function:latest)
#   MODELS=dir      the model artifact(s) to bake in (default models/)
#   JAVA_HOME       the JDK whose jlink and jmods make the runtime (default: the one `javac` belongs to)
#   JLINK_COMPRESS  jlink's --compress level (default 2, zip: 126 instead of 151 MiB; the CPU of a cold
#                   start measured the same, 1.67 vs 1.71 s, most classes coming from the CDS archives)
# Knobs for other images built the same way (ec2/build-node-image.sh: the always-on node):
#   OUT=dir  ARCHIVE=file   where the tree and the archive go (default openfaas/target/cifar-serve-function.tar)
#   CONF=file               the service config baked in as /app/conf/<its name> (default conf/openfaas.json)
#   MODULES=list            the jlink modules (default below)
#   EXTRA_CONF="files"      more files for /app/conf (e.g. a Hazelcast config)
#   EXTRA_JVM_FLAGS="..."   appended to the JVM flags below (later flags win)
#   JIT=c1|tiered           c1 (default, the function): C1 only; tiered: the JDK's C1 + C2 (the always-on node)
#   SERVE_ARGS="..."        the service's arguments (default: serve --conf /app/conf/<CONF's name>)
#   ALLOW_TRAINING_STACK=1  the image may carry DL4J/ND4J/OpenBLAS/Hazelcast and trains (the node's image): its
#                           Env gets TRAIN_ENV of conf/jvm.env too
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$PWD
OUT=${OUT:-$ROOT/openfaas/target}
IMAGE=${IMAGE:-cifar-serve-function:latest}
JAR=$(readlink -f "${JAR:-$ROOT/verticles/serving/target/cifar-serve-function.jar}")
if [[ -z "${JAVA_HOME:-}" ]]; then JAVA_HOME=$(dirname "$(dirname "$(readlink -f "$(command -v javac)")")"); fi
CONF=${CONF:-$ROOT/conf/openfaas.json}
MODELS=${MODELS:-$ROOT/models}
ARCHIVE=${ARCHIVE:-$OUT/cifar-serve-function.tar}
read -r -a SERVE_ARGS <<< "${SERVE_ARGS:-serve --conf /app/conf/$(basename "$CONF")}"

# Modules of the function (serving/: Vert.x, Micrometer, ONNX Runtime): java.desktop for ImageIO (PNG/JPEG),
# java.management + jdk.management for the JVM metrics, java.naming for Netty's DNS configuration lookup.
# No Hazelcast, so none of what it needed (java.sql, java.scripting, jdk.naming.dns, ...). Checked by
# running the container test; the node's image (ec2/build-node-image.sh) passes its own list.
MODULES=${MODULES:-java.base,java.logging,java.management,java.naming,java.xml,java.desktop,jdk.unsupported,jdk.management}

JVM_FLAGS=(
  -Djava.awt.headless=true
  # ONNX Runtime loads its library from here instead of extracting it into /tmp at every start
  -Donnxruntime.native.path=/app/native
  -XX:MaxRAMPercentage=50
  -XX:+ExitOnOutOfMemoryError
  # Memory budget under the 4 GiB limit (issue 15): heap 50 % = 2 GiB + direct buffers 256 MiB
  # + metaspace 256 MiB + code cache 128 MiB + threads/GC/other ~0.3 GiB = ~2.9 GiB, leaving ~1 GiB
  # for a native inference runtime's arenas. Not yet measured under load with NMT (issue 15 open).
  -XX:MaxDirectMemorySize=256m
  -XX:MaxMetaspaceSize=256m
  -XX:ReservedCodeCacheSize=128m
)
case ${JIT:-c1} in
  # A function's process serves a burst and is scaled away: C2 compiling the start-up's hot loops (SHA-256
  # of the model, the jar's directory, Netty) cost ~0.3 of its ~1.8 CPU-s to the first answer, and the
  # work that stays hot per request is ONNX Runtime's native code (docs/performance.md, cold start).
  c1) JVM_FLAGS+=(-XX:TieredStopAtLevel=1) ;;
  tiered) ;;
  *) printf '[build-image] ERROR: JIT must be c1 or tiered, not %s\n' "$JIT" >&2; exit 2 ;;
esac
read -r -a EXTRA <<< "${EXTRA_JVM_FLAGS:-}"   # appended after step 4's flags: later flags win

log() { printf '[build-image] %s\n' "$*" >&2; }
die() { printf '[build-image] ERROR: %s\n' "$*" >&2; exit 1; }

# jlink needs the JDK's jmods, or (JEP 493, e.g. Temurin 25) a run-time image it can link from
[[ -x $JAVA_HOME/bin/jlink && ( -d $JAVA_HOME/jmods || -f $JAVA_HOME/lib/modules ) ]] \
  || die "no jlink with jmods or a linkable run-time image under JAVA_HOME=$JAVA_HOME (install a full JDK 17+)"
[[ -f $CONF ]] || die "missing $CONF"

mkdir -p "$OUT"

# 1. the jar
if [[ ! -f $JAR ]]; then
  MODULE=verticles; [[ $JAR == */serving/* ]] && MODULE=verticles/serving
  log "building the jar (mvn package -pl $MODULE -am)"
  mvn -q -B -DskipTests package -pl "$MODULE" -am
fi
[[ -f $JAR ]] || die "jar not found: $JAR"
# A resource that moved between modules stays in the old module's target/classes until `mvn clean`, and
# the shaded jar then carries that stale copy (an image once trained with old defaults this way).
DEFAULTS_SRC=$ROOT/verticles/serving/src/main/resources/default-config.json
rm -rf "$OUT/defaults-check"; mkdir -p "$OUT/defaults-check"
(cd "$OUT/defaults-check" && "$JAVA_HOME/bin/jar" xf "$JAR" default-config.json)
cmp -s "$OUT/defaults-check/default-config.json" "$DEFAULTS_SRC" \
  || die "$JAR carries a default-config.json that differs from $DEFAULTS_SRC: stale build output, run mvn clean package"
rm -rf "$OUT/defaults-check"
echo "$JAR" > "$OUT/jar-path.tmp"   # read by cifar-loadtest coldstart (comparison with the plain jar)

rm -rf "$OUT/rootfs" "$OUT/image" "$ARCHIVE"
mv "$OUT/jar-path.tmp" "$OUT/jar-path"
RFS=$OUT/rootfs
mkdir -p "$RFS"/{app/conf,app/models,app/native,etc,tmp,proc,dev,lib64}
chmod 1777 "$RFS/tmp"

# 2. jlink runtime
log "jlink runtime ($MODULES)"
"$JAVA_HOME/bin/jlink" --add-modules "$MODULES" --output "$RFS/opt/java" \
  --strip-debug --no-man-pages --no-header-files --compress="${JLINK_COMPRESS:-2}"
# the JDK's default class-data-sharing archive (jlink does not make one on 17): ~0.2-0.5 s off every start
"$RFS/opt/java/bin/java" -Xshare:dump > "$OUT/cds-dump.log" 2>&1 || { tail "$OUT/cds-dump.log" >&2; die "CDS dump failed"; }
# AWT X11, splash, jawt and sound libraries are never loaded headless: no X11/ALSA libraries needed.
rm -f "$RFS"/opt/java/lib/{libawt_xawt.so,libsplashscreen.so,libjawt.so,libjsound.so}

# copy_deps FILE... : copy every shared library the files need (per ldd, resolved on this host) into the
# same absolute path inside the image, dereferencing symlinks; libraries already in the image are skipped.
copy_deps() {
  local lib
  for lib in $(LD_LIBRARY_PATH="${EXTRA_LD_PATH:-}" ldd "$@" 2>/dev/null | awk '$2 == "=>" && $3 ~ /^\// {print $3} $1 ~ /^\// {print $1}' | sort -u); do
    case $lib in "$RFS"/*|"$OUT"/*) continue ;; esac
    [[ -e $RFS$lib ]] && continue
    mkdir -p "$RFS$(dirname "$lib")"
    cp -L "$lib" "$RFS$lib"
  done
  if LD_LIBRARY_PATH="${EXTRA_LD_PATH:-}" ldd "$@" 2>/dev/null | grep -q 'not found'; then
    LD_LIBRARY_PATH="${EXTRA_LD_PATH:-}" ldd "$@" 2>/dev/null | grep -B50 'not found' >&2 || true
    die "unresolved shared libraries (see above)"
  fi
}
log "host shared libraries for the runtime"
copy_deps "$RFS/opt/java/bin/java" $(find "$RFS/opt/java" -name '*.so' -type f)
# the program interpreter at the path every binary names
cp -L /lib64/ld-linux-x86-64.so.2 "$RFS/lib64/ld-linux-x86-64.so.2"
chmod 755 "$RFS/lib64/ld-linux-x86-64.so.2"

cat > "$RFS/etc/passwd" <<'EOF'
root:x:0:0:root:/root:/sbin/nologin
app:x:12000:12000:cifar-serve function:/tmp:/sbin/nologin
EOF
cat > "$RFS/etc/group" <<'EOF'
root:x:0:
app:x:12000:
EOF

# 3. the application
if compgen -G "$MODELS/*.onnx" > /dev/null; then
  # what serving reads: the ONNX twin and the metadata; the DL4J zip only where training runs (the node)
  cp "$MODELS"/*.onnx "$MODELS"/*.json "$RFS/app/models/"
  if [[ ${ALLOW_TRAINING_STACK:-0} == 1 ]]; then cp "$MODELS"/*.zip "$RFS/app/models/"; fi
else
  log "WARNING: no servable model artifact (.onnx) in $MODELS: the function will answer 503 until one is provided"
fi
cp "$CONF" ${EXTRA_CONF:-} "$RFS/app/conf/"

# 4. native libraries. JavaCPP (under ND4J) normally extracts the linux-x86_64 libraries packed in the
# jar into a writable cache at first load (~400 MB, seconds of every cold start, and impossible on a
# read-only root fs). Instead they are unpacked here once, flat, into /app/native, and JavaCPP is told
# to load them from there (pathsFirst + java.library.path: file URLs are loaded in place, never cached).
# The jar in the image is then shipped without them.
NATIVE_RE='^org/(bytedeco|nd4j)/.*/linux-x86_64[^/]*/[^/]+\.so(\.[0-9]+)*$'
ND4J_BINDINGS=org/nd4j/linalg/cpu/nativecpu/bindings
log "unpacking the jar's linux-x86_64 JavaCPP native libraries into /app/native"
NATIVES_TMP=$OUT/natives-unpack
rm -rf "$NATIVES_TMP"; mkdir -p "$NATIVES_TMP" "$RFS/app/native"
mapfile -t SO_ENTRIES < <("$JAVA_HOME/bin/jar" tf "$JAR" | grep -E "$NATIVE_RE" || true)
if (( ${#SO_ENTRIES[@]} )); then
  # The jar may carry several libnd4j builds (linux-x86_64, linux-x86_64-onednn-avx2, ...): keep the one
  # the service was built for (nd4jClassifier in cifar-serve-versions.properties), else the most specific.
  (cd "$NATIVES_TMP" && "$JAVA_HOME/bin/jar" xf "$JAR" cifar-serve-versions.properties 2> /dev/null || true)
  ND4J_CLASSIFIER=$(sed -n 's/^nd4jClassifier=//p' "$NATIVES_TMP/cifar-serve-versions.properties" 2> /dev/null | tr -d '\r')
  if [[ -z $ND4J_CLASSIFIER ]]; then
    ND4J_CLASSIFIER=$(printf '%s\n' "${SO_ENTRIES[@]}" | sed -n "s#^$ND4J_BINDINGS/\([^/]*\)/.*#\1#p" | awk '{print length, $0}' | sort -rn | head -1 | cut -d' ' -f2)
  fi
  log "libnd4j build: ${ND4J_CLASSIFIER:-none}"
  mapfile -t ND4J_ENTRIES < <(printf '%s\n' "${SO_ENTRIES[@]}" | grep "^$ND4J_BINDINGS/$ND4J_CLASSIFIER/" || true)
  mapfile -t OTHER_ENTRIES < <(printf '%s\n' "${SO_ENTRIES[@]}" | grep -v "^$ND4J_BINDINGS/" || true)
  (cd "$NATIVES_TMP" && "$JAVA_HOME/bin/jar" xf "$JAR" "${ND4J_ENTRIES[@]}" "${OTHER_ENTRIES[@]}")
  # libnd4j's onednn builds carry their own oneDNN inside libnd4jcpu.so (no separate libdnnl).
  # flatten, libnd4j's files first; a same-named file elsewhere (e.g. another libgomp.so.1) is skipped:
  # a process maps one library per soname anyway
  for so in "${ND4J_ENTRIES[@]}" "${OTHER_ENTRIES[@]}"; do
    dest=$RFS/app/native/$(basename "$so")
    if [[ -e $dest ]]; then
      cmp -s "$NATIVES_TMP/$so" "$dest" || log "keeping the first $(basename "$so"); skipping $so"
      continue
    fi
    cp "$NATIVES_TMP/$so" "$dest"
  done
  rm -rf "$NATIVES_TMP"
  # JavaCPP loads OpenBLAS for ND4J under a second name ("openblas@.0#openblas_nolapack@.0"): for such
  # a renamed library it makes symbolic links in its cache (/tmp/javacpp at run time: a few empty links,
  # no copies). The JNI library that needs libopenblas_nolapack.so.0 finds it here, through
  # LD_LIBRARY_PATH=/app/native.
  if [[ -f $RFS/app/native/libopenblas.so.0 ]]; then ln -sf libopenblas.so.0 "$RFS/app/native/libopenblas_nolapack.so.0"; fi
  JVM_FLAGS+=(
    -Dorg.bytedeco.javacpp.pathsFirst=true
    -Djava.library.path=/app/native
    -Dorg.bytedeco.javacpp.cachedir=/tmp/javacpp
    # JavaCPP's off-heap arrays are not bounded by the heap: cap them explicitly
    -Dorg.bytedeco.javacpp.maxbytes=1g
    -Dorg.bytedeco.javacpp.maxphysicalbytes=3g
  )
else
  log "no JavaCPP native library in the jar (the function: no ND4J)"
fi
# ONNX Runtime's linux-x64 library and its JNI glue (the jar carries other platforms' too: dropped)
ORT_DIR=ai/onnxruntime/native/linux-x64
mapfile -t ORT_ENTRIES < <("$JAVA_HOME/bin/jar" tf "$JAR" | grep -E "^$ORT_DIR/[^/]+\.so$" || true)
(( ${#ORT_ENTRIES[@]} )) || die "no ONNX Runtime linux-x64 library in $JAR"
mkdir -p "$NATIVES_TMP"
(cd "$NATIVES_TMP" && "$JAVA_HOME/bin/jar" xf "$JAR" "${ORT_ENTRIES[@]}")
cp "$NATIVES_TMP/$ORT_DIR"/*.so "$RFS/app/native/"
rm -rf "$NATIVES_TMP"
JVM_FLAGS+=("${EXTRA[@]}")
# libnd4jcpu.so ships with its symbol table (323 MB): dropping what dynamic linking does not need saves ~22 MB
if command -v strip > /dev/null; then
  find "$RFS/app/native" -type f -name '*.so*' -exec strip --strip-unneeded {} +
fi
log "host shared libraries for the natives"
EXTRA_LD_PATH=$RFS/app/native copy_deps $(find "$RFS/app/native" -type f)

log "slimming the jar (dropping its native libraries: those used are in /app/native)"
"$JAVA_HOME/bin/java" "$ROOT/openfaas/SlimJar.java" "$JAR" "$RFS/app/cifar-serve.jar" "$NATIVE_RE|^ai/onnxruntime/native/" >&2

# 5. runs inside the image tree (chroot: the image's own paths, so what they record is valid there)
in_image() {
  local runner=(unshare --mount --fork)
  [[ $EUID -eq 0 ]] || runner=(unshare --map-root-user --mount --fork)
  "${runner[@]}" sh -c 'set -e; r=$1; shift
    mount --rbind /proc "$r/proc"; mount --rbind /dev "$r/dev"
    exec chroot "$r" "$@"' in_image "$RFS" "$@"
}

# 5a. what a cold start loads, recorded by serving once: start, /_/health 200, one classification, GET /,
# SIGTERM. In a private network namespace (its own loopback) so it can neither clash with nor be reached
# by anything on the host. APPCDS=0 skips it. On JDK 17: a dynamic AppCDS archive (/app/app.jsa, the
# loaded classes). On a JDK with JEP 514 (25+): an AOT cache (/app/app.aot, JEP 483: classes loaded
# and linked, plus the recorded method profiles); CDS_MODE=appcds keeps AppCDS there too.
APPCDS_FLAGS=()
if "$RFS/opt/java/bin/java" -XX:+PrintFlagsFinal -version 2> /dev/null | grep -q ' AOTCacheOutput ' && [[ ${CDS_MODE:-auto} != appcds ]]; then
  CDS_FILE=/app/app.aot; RECORD_FLAG=-XX:AOTCacheOutput=$CDS_FILE; USE_FLAG=-XX:AOTCache=$CDS_FILE
else
  CDS_FILE=/app/app.jsa; RECORD_FLAG=-XX:ArchiveClassesAtExit=$CDS_FILE; USE_FLAG=-XX:SharedArchiveFile=$CDS_FILE
fi
if [[ ${APPCDS:-1} == 1 ]] && command -v ip > /dev/null && command -v curl > /dev/null; then
  log "recording $CDS_FILE ($RECORD_FLAG): serve + one classification in the image tree (isolated network)"
  head -c 3072 /dev/urandom > "$RFS/tmp/probe.rgb"
  runner=(unshare --mount --net --fork)
  [[ $EUID -eq 0 ]] || runner=(unshare --map-root-user --mount --net --fork)
  if LD_LIBRARY_PATH=/app/native HTTP_PORT=8080 timeout 600 "${runner[@]}" sh -c 'r=$1; shift
      ip link set lo up && mount --rbind /proc "$r/proc" && mount --rbind /dev "$r/dev" || exit 1
      chroot "$r" "$@" &
      pid=$!
      i=0
      until curl -sf -o /dev/null --max-time 2 http://127.0.0.1:8080/_/health; do
        i=$((i + 1)); [ $i -gt 360 ] && break; kill -0 $pid 2> /dev/null || exit 1; sleep 0.5
      done
      curl -s -o /dev/null --max-time 60 -H "Content-Type: application/octet-stream" --data-binary @"$r/tmp/probe.rgb" http://127.0.0.1:8080/v1/classify
      curl -s -o /dev/null --max-time 10 http://127.0.0.1:8080/
      kill -TERM $pid; wait $pid' appcds "$RFS" \
      /opt/java/bin/java "$RECORD_FLAG" "${JVM_FLAGS[@]}" -jar /app/cifar-serve.jar "${SERVE_ARGS[@]}" \
      > "$OUT/appcds.log" 2>&1 && [[ -s $RFS$CDS_FILE ]]; then
    APPCDS_FLAGS=("$USE_FLAG")
    log "$CDS_FILE: $(du -m "$RFS$CDS_FILE" | cut -f1) MiB"
  else
    tail -5 "$OUT/appcds.log" >&2
    log "WARNING: no $CDS_FILE (see $OUT/appcds.log): the image starts without it"
    rm -f "$RFS$CDS_FILE"
  fi
  rm -rf "$RFS"/tmp/* "$RFS"/tmp/.[!.]* 2> /dev/null || true
fi
JVM_FLAGS+=("${APPCDS_FLAGS[@]}")

# 5b. smoke test with the final flags: ND4J must initialise from /app/native alone (JavaCPP's fallback
# cache /tmp/javacpp must stay without libraries) and the CDS archives must map (-Xshare:on fails if not)
log "smoke test in the image tree: java -Xshare:on (or -XX:AOTMode=on) -jar /app/cifar-serve.jar info"
# (an AOT cache refuses -Xshare options: -XX:AOTMode=on is its "must map")
SHARE_ON=-Xshare:on; [[ " ${APPCDS_FLAGS[*]} " == *-XX:AOTCache=* ]] && SHARE_ON=-XX:AOTMode=on
LD_LIBRARY_PATH=/app/native in_image /opt/java/bin/java "$SHARE_ON" "${JVM_FLAGS[@]}" -jar /app/cifar-serve.jar info > "$OUT/info.txt" 2>&1 \
  || { cat "$OUT/info.txt" >&2; die "'info' failed inside the image tree"; }
EXTRACTED=$(find "$RFS/tmp" -type f -name '*.so*' ! -name 'libopenblas_nolapack.so*')
if [[ -n $EXTRACTED ]]; then
  echo "$EXTRACTED" >&2; die "JavaCPP or ONNX Runtime extracted libraries at run time: /app/native is not used for them"
fi
rm -rf "$RFS"/tmp/* "$RFS"/tmp/.[!.]* 2>/dev/null || true

# 5c. the function carries no training stack: every file of the image tree and every entry of its jar,
# listed into image-files.txt, must be free of DL4J/ND4J/JavaCPP/Hazelcast classes and ND4J/OpenBLAS libraries
(cd "$RFS" && find . -type f -o -type l | sed 's#^\./#/#'; "$JAVA_HOME/bin/jar" tf "$RFS/app/cifar-serve.jar" | sed 's#^#/app/cifar-serve.jar!#') \
  | sort > "$OUT/image-files.txt"
FORBIDDEN='!(org/deeplearning4j|org/nd4j|org/bytedeco|com/hazelcast)/|/(libnd4j|libjnind4j|libopenblas)[^/]*$'
if [[ ${ALLOW_TRAINING_STACK:-0} != 1 ]]; then
  if grep -E "$FORBIDDEN" "$OUT/image-files.txt" > "$OUT/forbidden-files.txt"; then
    head "$OUT/forbidden-files.txt" >&2
    die "the function image carries the training stack ($(wc -l < "$OUT/forbidden-files.txt") files, see $OUT/forbidden-files.txt)"
  fi
  log "image contents: $(wc -l < "$OUT/image-files.txt") files and jar entries, none of DL4J/ND4J/JavaCPP/Hazelcast/OpenBLAS"
fi

# the build context of openfaas/Dockerfile (faas-cli, JRE base image) gets the same /app (hard links)
CTX=$OUT/function-context
rm -rf "$CTX"; mkdir -p "$CTX"
cp "$ROOT/openfaas/Dockerfile" "$CTX/Dockerfile"
cp -al "$RFS/app" "$CTX/app"
rm -f "$CTX/app/app.jsa" "$CTX/app/app.aot"   # recorded against this image's own JDK: useless on a JRE base

# 6. the image archive (docker save format: manifest.json + config + one tar per layer)
IMG=$OUT/image
mkdir -p "$IMG"
# file times are kept: CDS archives check the times of what they were made from
TAR_OPTS=(--sort=name --numeric-owner --owner=0 --group=0 --format=gnu -C "$RFS")
declare -a LAYERS=() DIFF_IDS=()
add_layer() {
  local name=$1; shift
  tar "${TAR_OPTS[@]}" -cf "$IMG/$name.tar" "$@"
  local sum; sum=$(sha256sum "$IMG/$name.tar" | cut -d' ' -f1)
  mkdir -p "$IMG/$sum"; mv "$IMG/$name.tar" "$IMG/$sum/layer.tar"
  LAYERS+=("\"$sum/layer.tar\""); DIFF_IDS+=("\"sha256:$sum\"")
}
log "writing layers"
add_layer base opt lib64 $(cd "$RFS" && ls -d lib usr 2>/dev/null) etc tmp proc dev
add_layer natives app/native
add_layer models app/models
add_layer app app/cifar-serve.jar app/conf $(cd "$RFS" && ls app/app.jsa app/app.aot 2> /dev/null)

join() { local IFS=,; echo "$*"; }
json_array() { local out=() a; for a in "$@"; do out+=("\"$a\""); done; join "${out[@]}"; }
ENTRYPOINT=$(json_array /opt/java/bin/java "${JVM_FLAGS[@]}" -jar /app/cifar-serve.jar "${SERVE_ARGS[@]}")
# The engine environment every deployment sets (OMP_WAIT_POLICY, OPENBLAS_THREAD_TIMEOUT): from its one home;
# an image that trains (the node's) also gets TRAIN_ENV, which the function never does (it does not train).
source "$ROOT/conf/jvm.env"
read -r -a ENGINE_ENV_WORDS <<< "$ENGINE_ENV"
if [[ ${ALLOW_TRAINING_STACK:-0} == 1 ]]; then read -r -a TRAIN_ENV_WORDS <<< "$TRAIN_ENV"; ENGINE_ENV_WORDS+=(${TRAIN_ENV_WORDS[@]+"${TRAIN_ENV_WORDS[@]}"}); fi
CREATED=$(date -u -d "@$(stat -c %Y "$JAR")" +%Y-%m-%dT%H:%M:%SZ)
cat > "$IMG/config.json" <<EOF
{"architecture":"amd64","os":"linux","created":"$CREATED",
 "config":{"User":"12000:12000","WorkingDir":"/tmp","ExposedPorts":{"8080/tcp":{}},
  "Env":["PATH=/opt/java/bin","JAVA_HOME=/opt/java","LD_LIBRARY_PATH=/app/native","LANG=C.UTF-8","HOME=/tmp",$(json_array "${ENGINE_ENV_WORDS[@]}")],
  "Entrypoint":[$ENTRYPOINT],"Cmd":null,
  "Labels":{"org.opencontainers.image.title":"cifar-serve function","com.openfaas.function":"cifar-serve"}},
 "rootfs":{"type":"layers","diff_ids":[$(join "${DIFF_IDS[@]}")]},
 "history":[{"created":"$CREATED","created_by":"openfaas/build-image.sh"}]}
EOF
CONFIG_SUM=$(sha256sum "$IMG/config.json" | cut -d' ' -f1)
mv "$IMG/config.json" "$IMG/$CONFIG_SUM.json"
printf '[{"Config":"%s.json","RepoTags":["%s"],"Layers":[%s]}]\n' "$CONFIG_SUM" "$IMAGE" "$(join "${LAYERS[@]}")" > "$IMG/manifest.json"
tar --sort=name --numeric-owner --owner=0 --group=0 --mtime=@0 -C "$IMG" -cf "$ARCHIVE" .
rm -rf "$IMG"

log "image $IMAGE -> $ARCHIVE ($(du -m "$ARCHIVE" | cut -f1) MiB; rootfs $(du -sm "$RFS" | cut -f1) MiB)"
log "load it with: docker load -i $ARCHIVE"
