"""Runs a command on a pseudo-terminal, as a person in a real terminal would: waits until
the output shows WAIT (if given), then types SEND (Python escapes: \\x03 is Ctrl-C, \\n is
Enter). Writes everything the terminal showed to stdout and `exit=N` (or `signal=N`) to
stderr. Usage: pty_drive.py WAIT SEND CMD [ARG...]"""

import codecs
import os
import pty
import select
import sys
import time

wait, send, argv = sys.argv[1], sys.argv[2], sys.argv[3:]
send = codecs.decode(send, "unicode_escape").encode("latin-1")
pid, fd = pty.fork()
if pid == 0:
    os.execvp(argv[0], argv)

seen = b""
sent = not wait
deadline = time.monotonic() + 60
while time.monotonic() < deadline:
    r, _, _ = select.select([fd], [], [], 0.1)
    if r:
        try:
            chunk = os.read(fd, 65536)
        except OSError:
            break
        if not chunk:
            break
        seen += chunk
    if not sent and wait.encode() in seen:
        # A moment for the program to reach its read (and, for a prompt, to draw it).
        time.sleep(0.3)
        os.write(fd, send)
        sent = True
if time.monotonic() >= deadline:
    os.kill(pid, 9)
_, status = os.waitpid(pid, 0)
sys.stdout.buffer.write(seen)
if os.WIFEXITED(status):
    sys.stderr.write("exit=%d" % os.WEXITSTATUS(status))
else:
    sys.stderr.write("signal=%d" % os.WTERMSIG(status))
