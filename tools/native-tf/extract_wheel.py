"""Takes what tfjs-node's addon needs out of the tensorflow-cpu wheel (tools/native-tf/install.sh calls this).

    python extract_wheel.py <wheel> <out> <binding-dir>

<out>/lib     libtensorflow_cc.so.2 and libtensorflow_framework.so.2 (the C and eager C API live in the first)
<out>/include the headers the addon's sources include, followed through their own #include "..." lines (a few
              dozen files of the wheel's tensorflow/include/, not its 268 MB)
Writes into <out>.partial and renames it to <out> at the end, so <out> is whole or absent.
"""

import os
import re
import shutil
import sys
import zipfile

LIBS = ("tensorflow/libtensorflow_cc.so.2", "tensorflow/libtensorflow_framework.so.2")
INCLUDE = "tensorflow/include/"
QUOTED = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)


def main(wheel: str, out: str, binding_dir: str) -> None:
    partial = out + ".partial"
    shutil.rmtree(partial, ignore_errors=True)
    os.makedirs(os.path.join(partial, "lib"))
    with zipfile.ZipFile(wheel) as z:
        names = set(z.namelist())
        for lib in LIBS:
            if lib not in names:
                sys.exit(f"{os.path.basename(wheel)} has no {lib}: not a tensorflow-cpu 2.x Linux wheel")
            with z.open(lib) as src, open(os.path.join(partial, "lib", os.path.basename(lib)), "wb") as dst:
                shutil.copyfileobj(src, dst, 1 << 20)
        todo = []
        for source in sorted(os.listdir(binding_dir)):
            if source.endswith((".cc", ".h")):
                with open(os.path.join(binding_dir, source), encoding="utf-8") as f:
                    todo += QUOTED.findall(f.read())
        seen = set()
        while todo:
            header = todo.pop()
            if header in seen or INCLUDE + header not in names:
                continue  # the addon's own headers (napi_auto_ref.h, ...) are not in the wheel
            seen.add(header)
            text = z.read(INCLUDE + header)
            todo += QUOTED.findall(text.decode("utf-8", "replace"))
            target = os.path.join(partial, "include", header)
            os.makedirs(os.path.dirname(target), exist_ok=True)
            with open(target, "wb") as f:
                f.write(text)
        if "tensorflow/c/c_api.h" not in seen or "tensorflow/c/eager/c_api.h" not in seen:
            sys.exit(f"{os.path.basename(wheel)} lacks tensorflow/include/tensorflow/c/c_api.h or eager/c_api.h")
    shutil.rmtree(out, ignore_errors=True)
    os.rename(partial, out)
    print(f"{len(seen)} headers, {len(LIBS)} libraries")


if __name__ == "__main__":
    if len(sys.argv) != 4:
        sys.exit("usage: extract_wheel.py <wheel> <out> <binding-dir>")
    main(*sys.argv[1:])
