"""Help, generated from the registry: the command list, and any command's or
sub-command's usage, summary, sub-commands and examples (as errbot does)."""

from __future__ import annotations

from domain.types import Block, Context, Header, Reply, Table, Text
from handlers.core.context import CommandSpec, Registry

HELP_WORDS = ("help", "?")


def command_list(registry: Registry, *, intro: str | None = None) -> Reply:
    """Every command with its one-line summary."""
    rows = tuple((f"/{c.verb}", c.summary) for c in registry.commands)
    blocks: list[Block] = [Header("leadbot commands")]
    if intro:
        blocks.append(Text(intro))
    blocks.append(Table(("command", "what it does"), rows))
    blocks.append(
        Context(
            "`/leadbot help COMMAND` (or `/COMMAND help`) shows a command's usage and "
            "examples; `/COMMAND SUB help` one sub-command's."
        )
    )
    text = (intro + "\n" if intro else "") + "\n".join(f"{v}: {s}" for v, s in rows)
    return Reply(blocks=blocks, text=text)


def title(path: tuple[str, ...]) -> str:
    """`/goal set` for the path ("goal", "set")."""
    return "/" + " ".join(path)


def node_help(path: tuple[str, ...], node: CommandSpec) -> Reply:
    """One command's or sub-command's help: summary, usage, sub-commands, examples."""
    name = title(path)
    blocks: list[Block] = [Header(name), Text(node.summary)]
    usage = node.all_usage
    if usage:
        blocks.append(Text("```\n" + "\n".join(usage) + "\n```"))
    if node.subcommands:
        rows = tuple((f"{name} {s.verb}", s.summary) for s in node.subcommands)
        blocks.append(Table(("sub-command", "what it does"), rows))
        blocks.append(Context(f"`{name} SUB help` shows one sub-command's usage."))
    if node.examples:
        blocks.append(Context("Examples: " + " · ".join(f"`{e}`" for e in node.examples)))
    text = f"{name}: {node.summary}" + ("\n" + "\n".join(usage) if usage else "")
    return Reply(blocks=blocks, text=text)


def find_node(registry: Registry, words: list[str]) -> tuple[tuple[str, ...], CommandSpec] | None:
    """The command and sub-commands that `words` name (`["goal", "set"]`), as deep as
    they match; None when the first word is no command."""
    if not words:
        return None
    root = registry.command(words[0])
    if root is None:
        return None
    path: tuple[str, ...] = (root.verb,)
    node = root
    for word in words[1:]:
        child = node.child(word)
        if child is None:
            break
        path, node = (*path, child.verb), child
    return path, node


def help_for(registry: Registry, words: list[str]) -> Reply:
    """`/leadbot help [COMMAND [SUB ...]]`: the command list, or that node's help."""
    if not words:
        return command_list(registry)
    found = find_node(registry, words)
    if found is None:
        reply = command_list(registry, intro=f"There is no `/{words[0].lstrip('/')}` command.")
        reply.ok = False
        return reply
    return node_help(*found)
