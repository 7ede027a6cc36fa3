# Sourced by ./mvnw, ./mspx and .ci/run: makes JAVA_HOME point at a JDK 25 (or newer).
# Order: $JAVA_HOME if it is 25+, else the first /usr/lib/jvm/*25* with a javac, else stop with what to install.
mspx_java_major() {
  "$1/bin/java" -version 2>&1 | sed -n '1s/.*version "\([0-9]*\).*/\1/p'
}
mspx_select_jdk() {
  local candidate major
  if [ -n "${JAVA_HOME:-}" ] && [ -x "$JAVA_HOME/bin/javac" ]; then
    major=$(mspx_java_major "$JAVA_HOME")
    if [ -n "$major" ] && [ "$major" -ge 25 ]; then
      export JAVA_HOME
      return 0
    fi
  fi
  for candidate in /usr/lib/jvm/*25*; do
    if [ -x "$candidate/bin/javac" ] && [ "$(mspx_java_major "$candidate")" = 25 ]; then
      [ -n "${JAVA_HOME:-}" ] && echo "mspx: JAVA_HOME=$JAVA_HOME is not a JDK 25; using $candidate" >&2
      export JAVA_HOME="$candidate"
      return 0
    fi
  done
  echo "mspx needs JDK 25, found none (JAVA_HOME=${JAVA_HOME:-unset}; nothing in /usr/lib/jvm/*25*)." >&2
  echo "Install one (Debian/Ubuntu: apt-get install temurin-25-jdk from Adoptium's repository, or any JDK 25)" >&2
  echo "and set JAVA_HOME to it, e.g. export JAVA_HOME=/usr/lib/jvm/temurin-25-jdk-amd64" >&2
  return 1
}
