"""Module source addresses and registry versions read exactly as Terraform reads them.

The expectations below are Terraform's own verdicts: each source string was given to
``terraform init -backend=false`` (1.11.4, offline: its error tells an invalid address from a
local path, a registry lookup and a download), and each version constraint to ``terraform init``
against a local module registry (a CLI ``host`` block pointing ``modules.v1`` at 127.0.0.1)
listing the versions of AVAILABLE; the version it wrote to modules.json is the expectation.
The cases and verdicts are tabled in docs/terraform-parity.md. Everything here is offline:
registries and archives are served on 127.0.0.1 (tests/test_sources.py's fakes), git
repositories over file://.
"""

from __future__ import annotations

import io
import re
import tarfile
from pathlib import Path
from typing import Any

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Response

from driftwatch.spec import Unknown
from driftwatch.terraform.addresses import (
    ArchiveSource,
    GitSource,
    HttpSource,
    LocalSource,
    RegistrySource,
    SourceError,
    parse_source,
    select_version,
    version_refusal,
)
from driftwatch.terraform.evaluate import Scope, evaluate_text
from driftwatch.terraform.modules import _version_text, declare_target
from driftwatch.terraform.sources import Fetcher, ModuleSettings, NotFetched, _key
from tests.test_sources import (
    REGISTRY,
    TABLE_MODULE,
    FakeRegistry,
    git_repo,
    settings,
    tar_gz,
    target,
    write_tree,
)

PUBLIC = "registry.terraform.io"


@pytest.fixture
def registry(httpserver: HTTPServer) -> FakeRegistry:
    """tests/test_sources.py's fake registry on 127.0.0.1."""
    fake = FakeRegistry(httpserver)
    httpserver.expect_request("/.well-known/terraform.json").respond_with_handler(fake._discovery)
    for prefix in ("/v1/modules/", "/archives/"):
        httpserver.expect_request(re.compile(f"^{prefix}.*")).respond_with_handler(fake.handle)
    return fake


GH = "https://github.com/acme/tables.git"
EX = "https://example.com"

# --------------------------------------------------------------------------- addresses


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        # Terraform: local, backslashes read as slashes
        (".\\modules\\x", LocalSource("./modules/x")),
        ("..\\modules\\x", LocalSource("../modules/x")),
        # registry: namespace and name keep their case; a Unicode host is punycoded
        ("NS/Name/aws", RegistrySource(PUBLIC, "NS", "Name", "aws")),
        ("bücher.example/acme/tables/aws", RegistrySource("xn--bcher-kva.example", "acme", "tables", "aws")),
        ("acme/tables/aws//modules/./gsi/", RegistrySource(PUBLIC, "acme", "tables", "aws", "modules/gsi")),
        # GitHub shorthand: parts after owner/repo are a subdirectory of the repository
        ("github.com/acme/tables/modules/x?ref=v1", GitSource(GH, "v1", None, "modules/x")),
        ("github.com/acme/tables/a//b", GitSource(GH, None, None, "a/b")),
        ("git::github.com/acme/tables", GitSource(GH)),  # a forced getter still runs the detectors
        # Bitbucket shorthand: the whole path is the repository
        ("bitbucket.org/acme/tables/x", GitSource("https://bitbucket.org/acme/tables/x.git")),
        ("git@github.com:/acme/tables.git", GitSource("ssh://git@github.com/acme/tables.git")),
        # archives: every decompressor Terraform configures; suffixes are case-sensitive
        (f"{EX}/m/t.tar.bz2", ArchiveSource(f"{EX}/m/t.tar.bz2", "tar.bz2")),
        (f"{EX}/m/t.txz", ArchiveSource(f"{EX}/m/t.txz", "tar.xz")),
        (f"{EX}/dl?archive=tar.xz&x=1", ArchiveSource(f"{EX}/dl?x=1", "tar.xz")),
        (f"{EX}/m/T.ZIP", HttpSource(f"{EX}/m/T.ZIP")),
        (f"{EX}/m/t.zip?archive=false", HttpSource(f"{EX}/m/t.zip")),
        ("https://github.com/acme/tables/archive/v1.zip",
         ArchiveSource("https://github.com/acme/tables/archive/v1.zip", "zip")),
        ("https://example.com/m.zip//*", ArchiveSource(f"{EX}/m.zip", "zip", "*")),
    ],
)  # fmt: skip
def test_sources_are_classified_as_terraform_classifies_them(source: str, expected: object) -> None:
    assert parse_source(source) == expected


@pytest.mark.parametrize(
    "source",
    [
        "x",  # "use ./x" (a relative path needs ./)
        ".",
        "ns/name/AWS",  # the target system is lower-case letters and digits
        "ns/na.me/aws",
        "-ns/name/aws",
        "xn--bcher-kva.example/ns/name/aws",  # punycode must be written in Unicode
        "localhost/ns/name/aws",  # a registry host has a dot
        "example.com/ns/name/aws?ref=1",
        "GitHub.com/acme/tables",  # the GitHub shorthand is lower-case
        "github.com/acme",  # "GitHub URLs should be github.com/username/repo"
        "deploy@github.com:acme/tables.git",  # only the user git makes an SCP-like address git
        "ns/name/aws//../x",  # "subdirectory path leads outside of the module package"
        "github.com/acme/tables//a/../../b",
        "git::https://github.com/acme/tables.git//..",
        "ssh://git@github.com/acme/tables.git",  # "download not supported for scheme 'ssh'"
        "ftp://example.com/x.zip",
        "https://example.com/x.gz",  # one compressed file is not a module package
        # Go's `$` is the end of the text, Python's also before a final newline: terraform 1.11.4
        # finds no registry address here (and go-getter then a relative path without ./)
        "ns/name/aws\n",
        "ns/name\n/aws",
        "example.com\n/ns/name/aws",
    ],
)
def test_addresses_terraform_rejects_are_errors(source: str) -> None:
    with pytest.raises(SourceError):
        parse_source(source)


@pytest.mark.parametrize(
    "source",
    [
        "ssh://bot:s3cret@github.com/acme/tables.git",
        "ftp://bot:s3cret@example.com/x.zip",
        "https://bot:s3cret@example.com/x.gz",
        "git::https://bot:s3cret@github.com/acme/tables.git?ref=v1&sshkey=x",
        "git::ftp://bot:s3cret@github.com/acme/tables.git",
    ],
)
def test_a_password_in_a_refused_source_is_never_repeated(tmp_path: Path, source: str) -> None:
    """The reason a source is refused quotes the source: with the user info masked."""
    with pytest.raises(NotFetched) as refused:
        Fetcher(ModuleSettings(cache_dir=str(tmp_path / "cache"))).fetch(source, None)
    assert "s3cret" not in str(refused.value)
    write_tree(
        tmp_path / "repo",
        {
            "root/main.tf": f'module "m" {{\n  source = "{source}"\n}}\n'
            'resource "aws_dynamodb_table" "t" {\n  name = module.m.name\n  hash_key = "id"\n'
            '  billing_mode = "PAY_PER_REQUEST"\n  attribute {\n    name = "id"\n    type = "S"\n  }\n}\n'
        },
    )
    result = declare_target(target(tmp_path / "repo", ModuleSettings(offline=True)))
    assert result.not_evaluated and "s3cret" not in repr(result)


def test_a_windows_style_local_path_is_evaluated(tmp_path: Path) -> None:
    """``.\\modules\\table`` is a local path to Terraform; it was an unknown source here, and the
    module's tables were not evaluated."""
    write_tree(
        tmp_path,
        {
            "modules/table/main.tf": TABLE_MODULE["main.tf"],
            "root/main.tf": 'module "t" {\n  source = "..\\\\modules\\\\table"\n'
            '  name = "windows"\n  hash_key = "id"\n}\n',
        },
    )
    result = declare_target(target(tmp_path, ModuleSettings(offline=True)))
    assert [t.spec.name for t in result.tables] == ["windows"] and result.not_evaluated == []


def test_the_github_shorthand_with_a_path_fetches_the_repository_and_enters_the_path(tmp_path: Path) -> None:
    """``github.com/acme/tables/modules/table`` is the repository acme/tables, directory
    modules/table (go-getter's GitHub detector); it was fetched as a repository named
    ``tables/modules/table.git``, which does not exist."""
    git_repo(tmp_path / "mirror" / "acme" / "tables.git", {"v1": {"modules/table/main.tf": "# x\n"}})
    options = ModuleSettings(
        cache_dir=str(tmp_path / "cache"),
        allow_file_git=True,
        host_overrides=(("github.com", f"file://{tmp_path / 'mirror'}"),),
    )
    package = Fetcher(options).fetch("github.com/acme/tables/modules/table?ref=v1", None)
    assert package.directory == package.root / "modules" / "table"


@pytest.mark.parametrize("kind", ["tar.bz2", "txz"])
def test_archives_in_every_format_terraform_unpacks_are_fetched(
    tmp_path: Path, httpserver: HTTPServer, kind: str
) -> None:
    """A .tar.bz2 or .txz URL was taken for an HTTP page naming a source (Terraform unpacks it)."""
    buffer = io.BytesIO()
    mode = "w:bz2" if kind == "tar.bz2" else "w:xz"
    with tarfile.open(fileobj=buffer, mode=mode) as archive:
        data = TABLE_MODULE["main.tf"].encode()
        info = tarfile.TarInfo("main.tf")
        info.size = len(data)
        archive.addfile(info, io.BytesIO(data))
    httpserver.expect_request(f"/m.{kind}").respond_with_data(buffer.getvalue())
    package = Fetcher(settings(tmp_path, httpserver)).fetch(
        f"http://127.0.0.1:{httpserver.port}/m.{kind}", None
    )
    assert (package.directory / "main.tf").read_text() == TABLE_MODULE["main.tf"]


def test_a_subdirectory_glob_selects_the_one_directory_it_matches(
    tmp_path: Path, httpserver: HTTPServer
) -> None:
    """``//*``: the archive's single top directory (go-getter's SubdirGlob); it was read as a
    directory literally named ``*``."""
    httpserver.expect_request("/one.tar.gz").respond_with_data(tar_gz({"tables-1.0.0/main.tf": "# one\n"}))
    httpserver.expect_request("/two.tar.gz").respond_with_data(tar_gz({"a/main.tf": "", "b/main.tf": ""}))
    fetcher = Fetcher(settings(tmp_path, httpserver))
    package = fetcher.fetch(f"http://127.0.0.1:{httpserver.port}/one.tar.gz//*", None)
    assert package.directory == package.root / "tables-1.0.0"
    with pytest.raises(NotFetched, match="matches multiple paths"):
        fetcher.fetch(f"http://127.0.0.1:{httpserver.port}/two.tar.gz//*", None)


# --------------------------------------------------------------------------- registry answers


def test_a_registry_location_is_a_go_getter_address_not_a_path_under_the_registry(
    tmp_path: Path, registry: FakeRegistry, httpserver: HTTPServer
) -> None:
    """Only a location starting with /, ./ or ../ is relative to the download URL; a GitHub
    shorthand was joined onto the registry's URL (an HTTP page there) and refused."""
    git_repo(tmp_path / "mirror" / "acme" / "tables.git", {"v1.0.0": TABLE_MODULE})
    registry.publish("acme/tables/aws", "1.0.0", TABLE_MODULE)
    registry.location = "github.com/acme/tables?ref=v1.0.0"
    options = settings(
        tmp_path,
        httpserver,
        host_overrides=(
            (REGISTRY, f"http://127.0.0.1:{httpserver.port}"),
            ("github.com", f"file://{tmp_path / 'mirror'}"),
        ),
    )
    package = Fetcher(options).fetch(f"{REGISTRY}/acme/tables/aws", None)
    assert (package.directory / "main.tf").read_text() == TABLE_MODULE["main.tf"]


@pytest.mark.parametrize(
    ("location", "refusal"),
    [
        ("git::https://git.evil.test/t.git?ref=v1", "host git.evil.test is not in modules.allowed_hosts"),
        ("https://bot:s3cret@evil.test/t.tar.gz", "host evil.test is not in modules.allowed_hosts"),
        ("acme/other/aws", "must be a direct remote package address"),
        ("/redirect.tar.gz", r"redirects to another host \(evil.test\); not followed"),
        ("s3::https://s3.amazonaws.com/acme/t.zip", "Amazon S3 sources are not fetched"),
    ],
)
def test_a_registry_location_on_a_host_not_allowed_is_not_fetched(
    tmp_path: Path, registry: FakeRegistry, httpserver: HTTPServer, location: str, refusal: str
) -> None:
    httpserver.expect_request("/redirect.tar.gz").respond_with_response(
        Response(status=302, headers={"Location": "https://evil.test/t.tar.gz"})
    )
    registry.publish("acme/tables/aws", "1.0.0", TABLE_MODULE)
    registry.location = location
    with pytest.raises(NotFetched, match=refusal) as refused:
        Fetcher(settings(tmp_path, httpserver)).fetch(f"{REGISTRY}/acme/tables/aws", None)
    assert "s3cret" not in str(refused.value)
    assert not any(r.path.startswith("/archives/") for r in registry.requests)


def test_the_json_location_is_read_before_the_header(
    tmp_path: Path, registry: FakeRegistry, httpserver: HTTPServer
) -> None:
    """Terraform's registry client reads a 200 answer's JSON ``location`` first."""
    registry.publish("acme/tables/aws", "1.0.0", TABLE_MODULE)
    registry.json_location = True
    registry.headers = {"X-Terraform-Get": "https://evil.test/t.tar.gz"}
    package = Fetcher(settings(tmp_path, httpserver)).fetch(f"{REGISTRY}/acme/tables/aws", None)
    assert (package.directory / "main.tf").is_file()


# --------------------------------------------------------------------------- versions

AVAILABLE = [
    "0.9.0", "1.0.0", "1.2.0", "1.2.5", "1.5.0", "1.9.1", "2.0.0", "2.1.0", "3.0.0-beta1",
    "3.0.0-rc.1", "1.2.3.4", "v2.2.0", "junk", "1.10.0-alpha",
]  # fmt: skip


@pytest.mark.parametrize(
    ("constraint", "terraform"),
    [
        (None, "2.2.0"),
        ("~> 1", "2.2.0"),  # one segment fixes nothing: ">= 1" (it was read as "~> 1.0")
        ("~> 2", "2.2.0"),
        ("~> 1.2", "1.9.1"),
        ("~> 1.2.0", "1.2.5"),
        ("~> 1.2.3", "1.2.5"),
        (">= 1, < 2", "1.9.1"),
        (">=1,<2", "1.9.1"),
        (">= 1.0, < 2.0, != 1.9.1", "1.5.0"),
        ("!= 2.2.0", "2.1.0"),
        ("= 1.2.0", "1.2.0"),
        ("1.2.0", "1.2.0"),
        ("v1.2.0", "1.2.0"),
        ("2.2", "2.2.0"),  # the registry's "v2.2.0", as Terraform names it
        ("> 2.2.0", None),
        ("1.2.3.4", "1.2.3.4"),  # four segments are a version
        ("< 1.2.3.5, > 1.2.3", "1.2.3.4"),
        # prereleases: only a constraint that is exactly that version, with no space after "="
        ("3.0.0-beta1", "3.0.0-beta1"),
        ("=3.0.0-beta1", "3.0.0-beta1"),
        ("3.0.0-rc.1", "3.0.0-rc.1"),
        ("1.10.0-alpha", "1.10.0-alpha"),
        ("= 3.0.0-beta1", None),
        ("v3.0.0-beta1", None),
        ("3.0.0-beta1, >= 1", None),
        ("~> 3.0.0-beta1", None),
        (">= 3.0.0-beta1", None),
    ],
)
def test_newest_matching_version_is_terraforms_choice(constraint: str | None, terraform: str | None) -> None:
    assert select_version(AVAILABLE, constraint) == terraform


@pytest.mark.parametrize(
    "constraint",
    [
        *("", " ", "== 1.2", "^1.2", "~ 1.2", "1.2 || 1.3", ">= 1.2 < 2"),
        *("1.x", "*", "+1", "latest", "1.2,", ",1.2"),
    ],
)
def test_constraints_terraform_calls_invalid_are_errors(constraint: str) -> None:
    """Terraform: "Invalid version constraint", an empty or blank string too (terraform 1.11.4
    init refuses ``version = ""``: go-version's NewConstraint has no empty constraint; only no
    ``version``, or ``null``, means any)."""
    with pytest.raises(SourceError, match="invalid version constraint"):
        select_version(AVAILABLE, constraint)


def test_an_invalid_constraint_leaves_that_call_not_evaluated_with_the_error(
    tmp_path: Path, registry: FakeRegistry, httpserver: HTTPServer
) -> None:
    registry.publish("acme/tables/aws", "1.0.0", TABLE_MODULE)
    write_tree(
        tmp_path / "repo",
        {
            "root/main.tf": f'module "bad" {{\n  source  = "{REGISTRY}/acme/tables/aws"\n  version = "^1.0"\n'
            '  name = "bad"\n  hash_key = "id"\n}\n'
            f'module "good" {{\n  source  = "{REGISTRY}/acme/tables/aws"\n  version = "~> 1"\n'
            '  name = "good"\n  hash_key = "id"\n}\n'
        },
    )
    result = declare_target(target(tmp_path / "repo", settings(tmp_path, httpserver)))
    assert [t.spec.name for t in result.tables] == ["good"]
    (item,) = result.not_evaluated
    assert item.address == "module.bad" and "invalid version constraint '^1.0'" in item.reason


def test_no_matching_version_names_the_constraint_and_the_versions_seen(
    tmp_path: Path, registry: FakeRegistry, httpserver: HTTPServer
) -> None:
    for version in ("1.0.0", "1.1.0", "2.0.0-beta1"):
        registry.publish("acme/tables/aws", version, TABLE_MODULE)
    with pytest.raises(NotFetched) as refused:
        Fetcher(settings(tmp_path, httpserver)).fetch(f"{REGISTRY}/acme/tables/aws", ">= 2")
    assert str(refused.value).startswith(f"no version of {REGISTRY}/acme/tables/aws matches '>= 2'")
    assert "2.0.0-beta1, 1.1.0, 1.0.0" in str(refused.value)


def test_the_registry_is_asked_for_the_version_as_terraform_names_it(
    tmp_path: Path, registry: FakeRegistry, httpserver: HTTPServer
) -> None:
    """A registry listing ``v1.2`` is asked for ``1.2.0/download`` (go-version's String())."""
    registry.modules["acme/tables/aws"] = {"v1.2": tar_gz(TABLE_MODULE)}
    registry.location = "/archives/acme~tables~aws@v1.2.tar.gz"
    package = Fetcher(settings(tmp_path, httpserver)).fetch(f"{REGISTRY}/acme/tables/aws", "~> 1.2")
    assert package.version == "1.2.0"
    assert any(r.path == "/v1/modules/acme/tables/aws/1.2.0/download" for r in registry.requests)


def test_a_resolution_cached_under_the_old_rules_is_not_reused(
    tmp_path: Path, registry: FakeRegistry, httpserver: HTTPServer
) -> None:
    """``~> 1`` was resolved to the newest 1.x and that answer cached for good: after the
    fix a daemon would have kept it. The cache key names the rules the answer was made with."""
    for version in ("1.0.0", "2.0.0"):
        registry.publish("acme/tables/aws", version, {**TABLE_MODULE, "VERSION": version})
    options = settings(tmp_path, httpserver)
    resolved = Path(options.cache_dir or "") / "resolved"
    resolved.mkdir(parents=True)
    package = f"{REGISTRY}/acme/tables/aws"
    (resolved / f"{_key('version', package, '~> 1')}.json").write_text('"1.0.0"')
    fetched = Fetcher(options).fetch(package, "~> 1")
    assert fetched.version == "2.0.0" and (fetched.root / "VERSION").read_text() == "2.0.0"


@pytest.mark.parametrize(
    "source",
    [
        "git::ssh://git@evil.test\\@github.com/acme/tables.git",  # ssh reads the host after the last @
        "git::ssh://evil.test@github.com@ok.test/acme/tables.git",
        "git::ssh://git@github.com%2eevil.test/acme/tables.git",  # git decodes the %2e
        "git::https://bücher.example/acme/tables.git",  # an IDN host is compared as punycode
    ],
)
def test_a_host_part_git_could_read_otherwise_is_refused_before_git_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, source: str
) -> None:
    """modules.allowed_hosts is checked on the host Python reads from the URL; a host part that
    ssh, git or curl could read as another host is refused before git is started."""
    started: list[Any] = []
    monkeypatch.setattr("driftwatch.terraform.sources.subprocess.Popen", lambda *a, **k: started.append(a))
    options = ModuleSettings(
        cache_dir=str(tmp_path / "cache"), allowed_hosts=("github.com", "ok.test", "bücher.example")
    )
    with pytest.raises(NotFetched, match=r"not a plain host name|not in modules\.allowed_hosts"):
        Fetcher(options).fetch(source, None)
    assert started == []


@pytest.mark.parametrize(
    ("source", "host"),
    [
        ("git::https://GitHub.COM:8443/acme/tables.git", "github.com"),
        ("https://github.com@evil.test/acme/tables.zip", "evil.test"),
        ("https://bot:s3cret@Evil.Test/acme/tables.zip", "evil.test"),
    ],
)
def test_hosts_are_compared_lower_case_without_port_or_user(tmp_path: Path, source: str, host: str) -> None:
    options = ModuleSettings(cache_dir=str(tmp_path / "cache"), allowed_hosts=("gitlab.acme.test",))
    with pytest.raises(NotFetched, match=f"host {host} is not in modules.allowed_hosts") as refused:
        Fetcher(options).fetch(source, None)
    assert "s3cret" not in str(refused.value)


@pytest.mark.parametrize(
    "source",
    [
        "cloudposse/dynamodb/AWS",
        "GitHub.com/cloudposse/terraform-aws-dynamodb",
        "deploy@github.com:cloudposse/terraform-aws-dynamodb.git",
        "ssh://git@github.com/cloudposse/terraform-aws-dynamodb.git",
    ],
)
def test_a_cloudposse_address_terraform_rejects_is_not_emulated(tmp_path: Path, source: str) -> None:
    """The built-in CloudPosse releases matched these spellings and evaluated the table, though
    ``terraform init`` rejects each address: the call is not evaluated, with the reason."""
    write_tree(
        tmp_path,
        {"root/main.tf": f'module "t" {{\n  source = "{source}"\n  name = "t"\n  hash_key = "id"\n}}\n'},
    )
    result = declare_target(target(tmp_path, ModuleSettings(offline=True)))
    assert result.tables == []
    (item,) = result.not_evaluated
    assert item.address == "module.t"


@pytest.mark.parametrize(
    ("source", "version", "refused"),
    [
        # terraform 1.11.4 `init -backend=false`: with a `version` argument the source is parsed
        # as a registry address only ("Invalid registry module source address ... you also set
        # the argument "version", which applies only to registry modules"), even `version = ""`
        ("../modules/table", "1.0.0", True),
        ("../modules/table", "", True),
        ("git::https://github.com/acme/tables.git?ref=v1", "1.0.0", True),
        ("github.com/cloudposse/terraform-aws-dynamodb?ref=0.37.0", "0.37.0", True),
        ("acme/tables/aws", "1.0.0", False),
        ("example.com/acme/tables/aws//sub", "", False),
        ("../modules/table", None, False),
    ],
)
def test_a_version_argument_is_refused_on_a_source_that_is_not_a_registry_address(
    source: str, version: str | None, refused: bool
) -> None:
    assert (version_refusal(source, version is not None) is not None) is refused


@pytest.mark.parametrize(
    ("arguments", "reason"),
    [
        # terraform 1.11.4: "Invalid registry module source address" (local path with version)
        ('  source = "../modules/table"\n  version = ""\n', "applies only to registry modules"),
        # "Unsuitable value: value must be known" (source is read with no functions)
        ('  source = lower("../modules/table")\n', "not a literal string"),
        # "Variables not allowed"
        ('  source = "../modules/table"\n  version = local.v\n', "version is not a literal string"),
        # "Invalid module source address" (a leading space: not ./, not a registry address);
        # driftwatch stripped it and said "a local path is not fetched"
        ('  source = " ../modules/table"\n', "not a module source Terraform recognises"),
    ],
)
def test_a_call_terraform_refuses_is_not_evaluated_with_its_reason(
    tmp_path: Path, arguments: str, reason: str
) -> None:
    write_tree(
        tmp_path,
        {
            "modules/table/main.tf": TABLE_MODULE["main.tf"],
            "root/main.tf": 'locals {\n  v = "1.0.0"\n}\nmodule "t" {\n'
            + arguments
            + '  name = "x"\n  hash_key = "id"\n}\n',
        },
    )
    result = declare_target(target(tmp_path, ModuleSettings(offline=True)))
    assert result.tables == []
    (item,) = result.not_evaluated
    assert (item.address, item.source.file, item.source.line) == ("module.t", "root/main.tf", 4)
    assert reason in item.reason and "not a valid URL" not in item.reason


@pytest.mark.parametrize(
    ("version", "expected"),
    [
        # configs' decodeVersionConstraint: the constant converted to a string, null as no
        # constraint; a list has no string form ("A string value is required")
        ("1", "1"),
        ("1.5", "1.5"),
        ("true", "true"),  # then refused by the constraint's own parse, as Terraform does
        ("null", None),
        ('"~> 1.0"', "~> 1.0"),
        ("[1]", None),  # no string form: "version is not a literal string"
    ],
)
def test_a_constant_version_is_converted_to_a_string_as_terraform_does(
    tmp_path: Path, version: str, expected: str | None
) -> None:
    """``version = 1`` is the constraint "1" to Terraform: the call used to be left not
    evaluated as "not a literal string", its tables unwatched."""
    write_tree(
        tmp_path,
        {"root/main.tf": f'module "t" {{\n  source = "acme/tables/aws"\n  version = {version}\n}}\n'},
    )
    result = declare_target(target(tmp_path, ModuleSettings(offline=True)))
    (item,) = result.not_evaluated
    assert ("not a literal string" in item.reason) is (version == "[1]"), item.reason
    converted = _version_text(evaluate_text(version, Scope({}, "main.tf")))
    assert (None if isinstance(converted, Unknown) else converted) == expected
