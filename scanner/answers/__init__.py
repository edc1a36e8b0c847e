"""The answer service of issue 18: teachers answer from their digest.

A digest link carries an encrypted, signed, expiring claim (:mod:`scanner.answers.links`):
this owner, these items, this action. ``schoonschip serve`` (:mod:`scanner.answers.web`)
shows a confirmation page for a GET and acts only on the POST from that page
(:mod:`scanner.answers.service`): it records the answer, sets the item's ``owner_mark`` that
the retention policy honours, and for *verwijderen* asks the source's connector to move the
item to its recycle place.
"""
