"""Interface strings in English and Chinese; the language follows the browser.

Data (labels, terms, messages) is shown as stored; only the interface is translated.
"""

from __future__ import annotations

__all__ = ["LANGUAGES", "STRINGS", "negotiate_language", "translator"]

#: Interface languages, the first is the default.
LANGUAGES = ("en", "zh")

STRINGS: dict[str, dict[str, str]] = {
    "app_name": {"en": "smallgroups dashboard", "zh": "小组数据看板"},
    "growth": {"en": "Growth", "zh": "增长"},
    "groups": {"en": "Groups", "zh": "小组"},
    "experiments": {"en": "Experiments and interventions", "zh": "实验与干预"},
    "login": {"en": "Log in", "zh": "登录"},
    "logout": {"en": "Log out", "zh": "退出"},
    "name": {"en": "Name", "zh": "用户名"},
    "password": {"en": "Password", "zh": "密码"},
    "login_failed": {"en": "Wrong name or password.", "zh": "用户名或密码错误。"},
    "signed_in_as": {"en": "Signed in as", "zh": "当前用户"},
    "snapshot": {"en": "Snapshot of run", "zh": "数据快照(运行)"},
    "published": {"en": "published", "zh": "发布于"},
    "users_chart": {"en": "Active users (DAU / WAU / MAU)", "zh": "活跃用户(日 / 周 / 月)"},
    "signups_chart": {"en": "Sign-ups per day", "zh": "每日注册"},
    "groups_chart": {
        "en": "Active groups and active group members",
        "zh": "活跃小组与活跃组员",
    },
    "share_chart": {"en": "Share of messages in groups", "zh": "小组内消息占比"},
    "inflections": {"en": "Detected inflection points", "zh": "检测到的拐点"},
    "inflection": {"en": "Inflection", "zh": "拐点"},
    "intervention": {"en": "Intervention", "zh": "干预"},
    "interventions": {"en": "Interventions", "zh": "干预措施"},
    "series": {"en": "Series", "zh": "指标"},
    "date": {"en": "Date", "zh": "日期"},
    "interval": {"en": "Interval", "zh": "区间"},
    "direction": {"en": "Direction", "zh": "方向"},
    "slope_ratio": {"en": "Slope ratio", "zh": "斜率比"},
    "confidence": {"en": "Confidence", "zh": "置信度"},
    "linked": {"en": "Interventions / experiments nearby", "zh": "附近的干预 / 实验"},
    "kind": {"en": "Kind", "zh": "类型"},
    "declared": {"en": "declared group", "zh": "已创建小组"},
    "detected": {"en": "detected community", "zh": "发现的社群"},
    "label": {"en": "Label", "zh": "名称"},
    "size": {"en": "Members", "zh": "成员数"},
    "health": {"en": "Health", "zh": "健康度"},
    "trend": {"en": "Trend", "zh": "趋势"},
    "language": {"en": "Language", "zh": "语言"},
    "messages": {"en": "Messages", "zh": "消息"},
    "status": {"en": "Status", "zh": "状态"},
    "any": {"en": "any", "zh": "全部"},
    "search": {"en": "Label or id contains", "zh": "名称或编号包含"},
    "min_size": {"en": "Min. members", "zh": "最少成员"},
    "min_health": {"en": "Min. health", "zh": "最低健康度"},
    "sort": {"en": "Sort by", "zh": "排序"},
    "apply": {"en": "Apply", "zh": "筛选"},
    "open_group": {"en": "Open group", "zh": "打开小组"},
    "group_map": {"en": "Map of the groups: size vs health", "zh": "小组分布:规模与健康度"},
    "count_shown": {"en": "groups shown", "zh": "个小组"},
    "health_chart": {"en": "Health and its components", "zh": "健康度及其组成"},
    "activity_chart": {"en": "Members' activity", "zh": "成员活跃度"},
    "sentiment_chart": {"en": "Sentiment per week", "zh": "每周情绪"},
    "raised_lowered": {"en": "What raised or lowered health", "zh": "健康度升降的原因"},
    "raised": {"en": "Raised most", "zh": "提升最多"},
    "lowered": {"en": "Lowered most", "zh": "拉低最多"},
    "members": {"en": "Members by role", "zh": "成员角色"},
    "role": {"en": "Role", "zh": "角色"},
    "user": {"en": "User", "zh": "用户"},
    "topics": {"en": "Topics", "zh": "话题"},
    "trending": {"en": "Trending terms", "zh": "热门词"},
    "pain_points": {"en": "Pain points", "zh": "痛点"},
    "examples": {"en": "Example messages", "zh": "示例消息"},
    "latest_messages": {"en": "Latest messages", "zh": "最新消息"},
    "lookalikes": {"en": "Lookalike groups", "zh": "相似小组"},
    "affinity": {"en": "Affinity with other groups", "zh": "与其他小组的关联"},
    "events": {"en": "Lifecycle events", "zh": "生命周期事件"},
    "term": {"en": "Term", "zh": "词"},
    "score": {"en": "Score", "zh": "得分"},
    "phrase": {"en": "Phrase", "zh": "短语"},
    "authors": {"en": "Authors", "zh": "作者数"},
    "similarity": {"en": "Similarity", "zh": "相似度"},
    "event": {"en": "Event", "zh": "事件"},
    "related": {"en": "Related", "zh": "相关"},
    "results": {"en": "Experiment results", "zh": "实验结果"},
    "experiment": {"en": "Experiment", "zh": "实验"},
    "metric": {"en": "Metric", "zh": "指标"},
    "variant": {"en": "Variant", "zh": "实验组"},
    "lift": {"en": "Relative lift [95% CI]", "zh": "相对提升 [95% 置信区间]"},
    "p_value": {"en": "p (adjusted)", "zh": "p 值(校正)"},
    "health_flags": {"en": "Experiment health", "zh": "实验健康检查"},
    "srm": {"en": "SRM", "zh": "样本比例失衡"},
    "spillover": {"en": "Spillover", "zh": "溢出效应"},
    "power": {"en": "Power and minimum detectable effects", "zh": "统计功效与最小可检测效应"},
    "effect": {"en": "Relative effect [95% CI]", "zh": "相对效应 [95% 置信区间]"},
    "contribution": {"en": "DAU contribution [95% CI]", "zh": "日活贡献 [95% 置信区间]"},
    "target": {"en": "Target", "zh": "对象"},
    "type": {"en": "Type", "zh": "类型"},
    "started": {"en": "Started", "zh": "开始"},
    "none": {"en": "Nothing here yet.", "zh": "暂无数据。"},
    "forbidden": {"en": "You may not open this page.", "zh": "您无权查看此页面。"},
    "not_found": {"en": "There is no such page or group.", "zh": "没有这个页面或小组。"},
    "no_groups": {
        "en": "No group is assigned to your account in this snapshot.",
        "zh": "当前快照中没有分配给您的小组。",
    },
    "error": {"en": "Something went wrong", "zh": "出错了"},
    "owner": {"en": "owner", "zh": "组长"},
    "member": {"en": "member", "zh": "成员"},
    "key_member": {"en": "key member", "zh": "核心成员"},
    "bridge": {"en": "bridge", "zh": "桥梁成员"},
    "core": {"en": "core", "zh": "骨干"},
    "peripheral": {"en": "peripheral", "zh": "边缘"},
    "growing": {"en": "growing", "zh": "增长"},
    "shrinking": {"en": "shrinking", "zh": "萎缩"},
    "stable": {"en": "stable", "zh": "稳定"},
    "new": {"en": "new", "zh": "新"},
    "yes": {"en": "yes", "zh": "是"},
    "no": {"en": "no", "zh": "否"},
}


def negotiate_language(accept_language: str | None) -> str:
    """The interface language for an ``Accept-Language`` header.

    Parameters
    ----------
    accept_language : str or None
        The header, e.g. ``"zh-CN,zh;q=0.9,en;q=0.8"``.

    Returns
    -------
    str
        The supported language with the highest weight (earliest on ties), else ``en``.
    """
    best, best_weight = LANGUAGES[0], 0.0
    for part in (accept_language or "").split(","):
        tag, _, params = part.strip().partition(";")
        primary = tag.strip().split("-")[0].lower()
        weight = 1.0
        params = params.strip()
        if params.startswith("q="):
            try:
                weight = float(params[2:])
            except ValueError:
                weight = 0.0
        if primary in LANGUAGES and weight > best_weight:
            best, best_weight = primary, weight
    return best


def translator(language: str):
    """A function ``t(key)`` giving the string in ``language`` (the key when unknown).

    Parameters
    ----------
    language : str
        One of :data:`LANGUAGES`.

    Returns
    -------
    callable
        ``t(key) -> str``.
    """

    def t(key: str) -> str:
        entry = STRINGS.get(key)
        return entry.get(language, entry["en"]) if entry else key

    return t
