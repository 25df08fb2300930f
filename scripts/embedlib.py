"""What the two embedding scripts share (embed-web.py, embed-keyd-web.py):
bytes as a C array, and the Ninja depfile listing everything under web/."""
import os


def c_array(name, data, ctype="const char"):
    """`ctype name[len + 1]` holding data and one NUL beyond it, so text is
    also a C string; the NUL is not part of the data's length."""
    rows = []
    for i in range(0, len(data), 20):
        rows.append("    " + ", ".join(f"0x{b:02x}" for b in data[i:i + 20]) + ",")
    return f"{ctype} {name}[{len(data) + 1}] = {{\n" + "\n".join(rows) + "\n    0x00,\n};\n"


def write_depfile(depfile, out_c, web, extra=()):
    """Every file under web/ (node_modules only through npm's lockfile), plus
    extra, so that Ninja rebuilds out_c when any of them changes."""
    deps = list(extra)
    for dirpath, dirnames, filenames in os.walk(web):
        dirnames[:] = [d for d in dirnames if d != "node_modules"]
        deps += [os.path.join(dirpath, n) for n in filenames]
    lock = os.path.join(web, "node_modules", ".package-lock.json")
    if os.path.exists(lock):
        deps.append(lock)
    esc = lambda p: p.replace(" ", "\\ ")
    with open(depfile, "w") as f:
        f.write(esc(out_c) + ": " + " \\\n  ".join(esc(d) for d in sorted(deps)) + "\n")
