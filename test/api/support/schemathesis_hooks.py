# Schemathesis hooks of test/api/schemathesis.test.ts (loaded through SCHEMATHESIS_HOOKS).
#
# A list's `cursor` is an opaque token: only the `next` of an earlier answer is one, so every
# value a generator can invent is refused (422), and the document cannot say more than "a
# string". Generated requests leave it out (every phase applies filter_case);
# test/api/lists.test.ts follows real cursors.
import schemathesis


@schemathesis.hook
def filter_case(ctx, case):
    return not (case.query and "cursor" in case.query)
