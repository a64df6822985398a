"""The Docker-free local runtime: template.yaml's functions run as local processes against an embedded AWS.

One job per module: ``template`` reads the SAM template; ``intrinsics`` resolves Ref/GetAtt/Sub...;
``stack_resources`` tells what each logical id of a deployed stack is; ``translate`` and ``provision`` build the
template's data resources in moto from the template itself; ``local_secrets`` stores the local secret values;
``target`` and ``connection`` choose the AWS (embedded or real) and the stack; ``environment`` assembles a
function's variables; ``runner`` and ``worker`` run a handler in its own interpreter; ``api_server``, ``poller``
and ``scheduler`` are the event sources; ``local_stack`` runs all of it; ``stack_record`` lets other commands
find a running stack; ``demo_probes`` is what ``pdutils demo`` checks. See docs/local.md.
"""
