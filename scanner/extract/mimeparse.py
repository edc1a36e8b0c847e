"""``email.message_from_bytes`` (compat32) with a cheaper multipart parse, same result.

Why: parsing is the hot spot of the in-process mail walk (issue 21 item 2). On Python 3.11 and
3.12 the standard library's ``FeedParser._parsegen`` compiles a new regular expression for
every multipart in every mail (the boundary is in the pattern, and boundaries are unique per
mail, so ``re``'s cache never hits): compiling it costs more than the rest of the parse of a
typical school mail. CPython fixed this in 3.13 (python/cpython issue gh-106628, PR gh-106629):
a ``str.startswith`` test of the separator, then one precompiled regular expression for what may
follow it. This module carries that fix, and two more of the same kind, for 3.11:

* :class:`FeedParser` subclasses the standard library's parser and overrides only
  ``_parsegen``, copied from CPython 3.11.7 ``Lib/email/feedparser.py`` with the 3.13 boundary
  match. The lines changed against the 3.11 copy are marked ``# mimeparse:``; the other
  changes are :func:`_read_rest` and :func:`_eol_len`, below. Everything else (line splitting,
  header parsing, ``Message`` objects, defects) is the standard library's own, so the result is
  the same tree of the same objects with the same defects.
* :func:`_read_rest` takes the lines of a (non-multipart) part's payload from the parser's
  line buffer in one loop instead of a ``readline`` call (and an iterator step) per line,
  with the same end-of-part checks in the same order. Not in CPython.
* :func:`_eol_len` replaces ``NLCRE_eol.search(s)`` (``(\\r\\n|\\r|\\n)\\Z``), which the parser
  runs on every sub-part's payload to drop the newline before the next boundary: a regex search
  for an end anchor tries every position, so it reads the whole payload (a base64 attachment
  included); two ``endswith`` tests give the same answer. Not in CPython (3.13 still searches).

The copy is used on Python 3.11 only, the version it was copied from and checked against (the
project's interpreter): on any other version :func:`message_from_bytes` is the standard
library's, since a 3.11 copy must not replace a newer parser that may carry other fixes (and
3.13's ``_parsegen`` has the boundary fix itself).

The equivalence is checked by tests/extract/test_mimeparse.py (trees compared with the
standard library's on ordinary, malformed and mutated mails) and by the byte-identical
extraction comparison recorded in docs/performance.md.

License: the copied code is from CPython, under the Python Software Foundation License
(PSF-2.0, https://docs.python.org/3/license.html); Copyright (C) 2004-2006 Python Software
Foundation, authors Baxter, Wouters and Warsaw. Changes by the schoonschip project as marked.
"""

from __future__ import annotations

import email
import re
import sys
from collections.abc import Callable, Iterator
from email import errors
from email._policybase import compat32

# The standard library's own constants and sentinel (``NeedMoreData`` must be the very object
# its BufferedSubFile returns); typeshed's stub of the module lacks them, hence the ignore.
from email.feedparser import (  # type: ignore[attr-defined]
    EMPTYSTRING,
    NLCRE,
    NeedMoreData,
    NLCRE_bol,
    headerRE,
)
from email.feedparser import FeedParser as _StdFeedParser
from email.message import Message
from io import StringIO
from typing import Any

__all__ = ["FeedParser", "message_from_bytes"]

# mimeparse: CPython 3.13's boundaryendRE, what may follow the separator on a boundary line
# (the old per-multipart pattern was this with the escaped separator in front).
_BOUNDARY_END = re.compile(r"(?P<end>--)?(?P<ws>[ \t]*)(?P<linesep>\r\n|\r|\n)?$")


def _eol_len(text: str) -> int:
    """``len(NLCRE_eol.search(text).group(0))``, 0 where it finds nothing, without reading
    the whole string: the pattern ``(\\r\\n|\\r|\\n)\\Z`` can only match in the last two
    characters, leftmost first, so a final CRLF counts 2 and a final CR or LF counts 1."""
    if text.endswith("\r\n"):
        return 2
    if text.endswith(("\r", "\n")):
        return 1
    return 0


def _read_rest(source: Any, out: list[str]) -> bool:
    """Move lines of ``source`` (the parser's ``BufferedSubFile``) to ``out`` up to a false EOF
    (the line an EOF matcher accepts stays in ``source``) or the end of the lines pushed so
    far. True at a false EOF or the real one, False when more data is needed. It is what
    ``for line in source`` does with ``BufferedSubFile.readline`` (3.11.7), without two calls
    and a ``reversed`` per line: the payload loop of ``_parsegen`` reads most of a mail's lines
    (every line of a base64 attachment)."""
    lines = source._lines
    matchers = source._eofstack[::-1]  # most to least nested, as readline tries them
    while lines:
        line = lines.popleft()
        for ateof in matchers:
            if ateof(line):
                lines.appendleft(line)
                return True
        out.append(line)
    return bool(source._closed)


class FeedParser(_StdFeedParser):
    """The standard library's compat32 ``FeedParser`` with ``_parsegen`` as in the module
    docstring. The attributes below are the base class's (typeshed does not declare them)."""

    _input: Any  # email.feedparser.BufferedSubFile
    _cur: Message
    _last: Message
    _headersonly: bool
    policy: Any
    _new_message: Callable[[], None]
    _pop_message: Callable[[], Message]
    _parse_headers: Callable[[list[str]], None]

    def _parsegen(self) -> Iterator[object]:
        epilogue: Any  # mimeparse: declared (str or list below), for mypy
        linesep: Any  # mimeparse: declared (bool or str below), for mypy
        defect: errors.MessageDefect  # mimeparse: declared (several classes below), for mypy
        # Create a new message and start by parsing headers.
        self._new_message()
        headers: list[str] = []
        # Collect the headers, searching for a line that doesn't match the RFC
        # 2822 header or continuation pattern (including an empty line).
        for line in self._input:
            if line is NeedMoreData:
                yield NeedMoreData
                continue
            if not headerRE.match(line):
                # If we saw the RFC defined header/body separator
                # (i.e. newline), just throw it away. Otherwise the line is
                # part of the body so push it back.
                if not NLCRE.match(line):
                    defect = errors.MissingHeaderBodySeparatorDefect()
                    self.policy.handle_defect(self._cur, defect)
                    self._input.unreadline(line)
                break
            headers.append(line)
        # Done with the headers, so parse them and figure out what we're
        # supposed to see in the body of the message.
        self._parse_headers(headers)
        # Headers-only parsing is a backwards compatibility hack, which was
        # necessary in the older parser, which could raise errors.  All
        # remaining lines in the input are thrown into the message body.
        if self._headersonly:
            lines = []
            while True:
                line = self._input.readline()
                if line is NeedMoreData:
                    yield NeedMoreData
                    continue
                if line == '':
                    break
                lines.append(line)
            self._cur.set_payload(EMPTYSTRING.join(lines))
            return
        if self._cur.get_content_type() == 'message/delivery-status':
            # message/delivery-status contains blocks of headers separated by
            # a blank line.  We'll represent each header block as a separate
            # nested message object, but the processing is a bit different
            # than standard message/* types because there is no body for the
            # nested messages.  A blank line separates the subparts.
            while True:
                self._input.push_eof_matcher(NLCRE.match)
                for retval in self._parsegen():
                    if retval is NeedMoreData:
                        yield NeedMoreData
                        continue
                    break
                self._pop_message()  # mimeparse: unused 'msg =' dropped (as in 3.13)
                # We need to pop the EOF matcher in order to tell if we're at
                # the end of the current file, not the end of the last block
                # of message headers.
                self._input.pop_eof_matcher()
                # The input stream must be sitting at the newline or at the
                # EOF.  We want to see if we're at the end of this subpart, so
                # first consume the blank line, then test the next line to see
                # if we're at this subpart's EOF.
                while True:
                    line = self._input.readline()
                    if line is NeedMoreData:
                        yield NeedMoreData
                        continue
                    break
                while True:
                    line = self._input.readline()
                    if line is NeedMoreData:
                        yield NeedMoreData
                        continue
                    break
                if line == '':
                    break
                # Not at EOF so this is a line we're going to need.
                self._input.unreadline(line)
            return
        if self._cur.get_content_maintype() == 'message':
            # The message claims to be a message/* type, then what follows is
            # another RFC 2822 message.
            for retval in self._parsegen():
                if retval is NeedMoreData:
                    yield NeedMoreData
                    continue
                break
            self._pop_message()
            return
        if self._cur.get_content_maintype() == 'multipart':
            boundary = self._cur.get_boundary()
            if boundary is None:
                # The message /claims/ to be a multipart but it has not
                # defined a boundary.  That's a problem which we'll handle by
                # reading everything until the EOF and marking the message as
                # defective.
                defect = errors.NoBoundaryInMultipartDefect()
                self.policy.handle_defect(self._cur, defect)
                lines = []
                for line in self._input:
                    if line is NeedMoreData:
                        yield NeedMoreData
                        continue
                    lines.append(line)
                self._cur.set_payload(EMPTYSTRING.join(lines))
                return
            # Make sure a valid content type was specified per RFC 2045:6.4.
            if (str(self._cur.get('content-transfer-encoding', '8bit')).lower()
                    not in ('7bit', '8bit', 'binary')):
                defect = errors.InvalidMultipartContentTransferEncodingDefect()
                self.policy.handle_defect(self._cur, defect)
            # Create a line match predicate which matches the inter-part
            # boundary as well as the end-of-multipart boundary.  Don't push
            # this onto the input stream until we've scanned past the
            # preamble.
            separator = '--' + boundary
            # mimeparse: CPython 3.13's boundarymatch instead of compiling
            # '(?P<sep>' + re.escape(separator) + ')' + _BOUNDARY_END's pattern
            # here, for every multipart (same matches, same groups).
            def boundarymatch(line: str) -> re.Match[str] | None:
                if not line.startswith(separator):
                    return None
                return _BOUNDARY_END.match(line, len(separator))
            capturing_preamble = True
            preamble: list[str] = []
            linesep = False
            close_boundary_seen = False
            while True:
                line = self._input.readline()
                if line is NeedMoreData:
                    yield NeedMoreData
                    continue
                if line == '':
                    break
                mo = boundarymatch(line)  # mimeparse: was boundaryre.match(line)
                if mo:
                    # If we're looking at the end boundary, we're done with
                    # this multipart.  If there was a newline at the end of
                    # the closing boundary, then we need to initialize the
                    # epilogue with the empty string (see below).
                    if mo.group('end'):
                        close_boundary_seen = True
                        linesep = mo.group('linesep')
                        break
                    # We saw an inter-part boundary.  Were we in the preamble?
                    if capturing_preamble:
                        if preamble:
                            # According to RFC 2046, the last newline belongs
                            # to the boundary.
                            lastline = preamble[-1]
                            eol = _eol_len(lastline)  # mimeparse: was NLCRE_eol.search
                            if eol:
                                preamble[-1] = lastline[:-eol]
                            self._cur.preamble = EMPTYSTRING.join(preamble)
                        capturing_preamble = False
                        self._input.unreadline(line)
                        continue
                    # We saw a boundary separating two parts.  Consume any
                    # multiple boundary lines that may be following.  Our
                    # interpretation of RFC 2046 BNF grammar does not produce
                    # body parts within such double boundaries.
                    while True:
                        line = self._input.readline()
                        if line is NeedMoreData:
                            yield NeedMoreData
                            continue
                        mo = boundarymatch(line)  # mimeparse: was boundaryre.match(line)
                        if not mo:
                            self._input.unreadline(line)
                            break
                    # Recurse to parse this subpart; the input stream points
                    # at the subpart's first line.
                    self._input.push_eof_matcher(boundarymatch)  # mimeparse: was boundaryre.match
                    for retval in self._parsegen():
                        if retval is NeedMoreData:
                            yield NeedMoreData
                            continue
                        break
                    # Because of RFC 2046, the newline preceding the boundary
                    # separator actually belongs to the boundary, not the
                    # previous subpart's payload (or epilogue if the previous
                    # part is a multipart).
                    if self._last.get_content_maintype() == 'multipart':
                        epilogue = self._last.epilogue
                        if epilogue == '':
                            self._last.epilogue = None
                        elif epilogue is not None:
                            end = _eol_len(epilogue)  # mimeparse: was NLCRE_eol.search
                            if end:
                                self._last.epilogue = epilogue[:-end]
                    else:
                        payload = self._last._payload  # type: ignore[attr-defined]
                        if isinstance(payload, str):
                            end = _eol_len(payload)  # mimeparse: was NLCRE_eol.search
                            if end:
                                payload = payload[:-end]
                                self._last._payload = payload  # type: ignore[attr-defined]
                    self._input.pop_eof_matcher()
                    self._pop_message()
                    # Set the multipart up for newline cleansing, which will
                    # happen if we're in a nested multipart.
                    self._last = self._cur
                else:
                    # I think we must be in the preamble
                    assert capturing_preamble
                    preamble.append(line)
            # We've seen either the EOF or the end boundary.  If we're still
            # capturing the preamble, we never saw the start boundary.  Note
            # that as a defect and store the captured text as the payload.
            if capturing_preamble:
                defect = errors.StartBoundaryNotFoundDefect()
                self.policy.handle_defect(self._cur, defect)
                self._cur.set_payload(EMPTYSTRING.join(preamble))
                epilogue = []
                for line in self._input:
                    if line is NeedMoreData:
                        yield NeedMoreData
                        continue
                self._cur.epilogue = EMPTYSTRING.join(epilogue)
                return
            # If we're not processing the preamble, then we might have seen
            # EOF without seeing that end boundary...that is also a defect.
            if not close_boundary_seen:
                defect = errors.CloseBoundaryNotFoundDefect()
                self.policy.handle_defect(self._cur, defect)
                return
            # Everything from here to the EOF is epilogue.  If the end boundary
            # ended in a newline, we'll need to make sure the epilogue isn't
            # None
            if linesep:
                epilogue = ['']
            else:
                epilogue = []
            for line in self._input:
                if line is NeedMoreData:
                    yield NeedMoreData
                    continue
                epilogue.append(line)
            # Any CRLF at the front of the epilogue is not technically part of
            # the epilogue.  Also, watch out for an empty string epilogue,
            # which means a single newline.
            if epilogue:
                firstline = epilogue[0]
                bolmo = NLCRE_bol.match(firstline)
                if bolmo:
                    epilogue[0] = firstline[len(bolmo.group(0)):]
            self._cur.epilogue = EMPTYSTRING.join(epilogue)
            return
        # Otherwise, it's some non-multipart type, so the entire rest of the
        # file contents becomes the payload.
        lines = []
        while not _read_rest(self._input, lines):  # mimeparse: was a readline loop
            yield NeedMoreData
        self._cur.set_payload(EMPTYSTRING.join(lines))


def _message_from_bytes(s: bytes) -> Message:
    """``email.message_from_bytes(s)`` with :class:`FeedParser`: what ``BytesParser.parsebytes``
    and ``Parser.parse`` do (decode as ASCII with surrogateescape, feed 8192 characters at a
    time, close), with no other policy or message class."""
    text = s.decode('ASCII', errors='surrogateescape')
    feedparser = FeedParser(policy=compat32)
    fp = StringIO(text)
    while True:
        data = fp.read(8192)
        if not data:
            break
        feedparser.feed(data)
    return feedparser.close()


message_from_bytes: Callable[[bytes], Message]
"""Parse a mail as ``email.message_from_bytes`` does (compat32, :class:`email.message.Message`)."""
if sys.version_info[:2] == (3, 11):
    message_from_bytes = _message_from_bytes
else:
    message_from_bytes = email.message_from_bytes  # see the module docstring
