"""Interface text: simplified Chinese by default, English on a switch (cookie `lang`)."""

from __future__ import annotations

import re

LANGS = ("zh", "en")

TEXT: dict[str, tuple[str, str]] = {
    "app_title": ("客户主数据复核", "Customer master data review"),
    "queue": ("待复核队列", "Review queue"),
    "audit": ("审计日志", "Audit log"),
    "users": ("用户管理", "Users"),
    "logout": ("退出", "Log out"),
    "login": ("登录", "Log in"),
    "username": ("用户名", "User name"),
    "password": ("密码", "Password"),
    "login_failed": ("用户名或密码错误", "Wrong user name or password"),
    # both languages either way: the one who is locked out may not have chosen theirs
    "login_throttled": (
        "登录失败次数过多，请 {minutes} 分钟后再试 "
        "(Too many failed logins; try again in {minutes} minutes)",
    ) * 2,
    "left": ("待复核", "left to review"),
    "shown": ("符合筛选", "match the filters"),
    "reviewed_today": ("今日已处理决定", "decisions today"),
    "reason": ("原因", "Reason"),
    "all": ("全部", "All"),
    "source": ("来源系统", "Source system"),
    "confidence": ("置信度", "Confidence"),
    "conf_min": ("最低", "from"),
    "conf_max": ("最高", "to"),
    "filter": ("筛选", "Filter"),
    "clear": ("清除", "Clear"),
    "entity": ("实体", "Entity"),
    "name": ("名称", "Name"),
    "records": ("记录数", "Records"),
    "sources": ("来源", "Sources"),
    "open": ("打开", "Open"),
    "prev": ("上一页", "Previous"),
    "next": ("下一页", "Next"),
    "golden": ("黄金记录", "Golden record"),
    "field": ("字段", "Field"),
    "value": ("值", "Value"),
    "lineage": ("来源记录 / 规则", "From record / rule"),
    "members": ("成员记录对比", "Member records side by side"),
    "differs": ("与黄金记录不同", "differs from the golden record"),
    "derived": ("该记录此栏为空，此值由其其他字段推出（如由地址推出省份）",
                "empty in this record; read from its other fields (e.g. the province from the address)"),
    "pairs": ("关联证据（模型逐项打分）", "Why the model linked them (per comparison)"),
    "near": ("疑似重复（其他实体）", "Possible duplicates in other entities"),
    "history": ("历史", "History"),
    "actions": ("操作", "Actions"),
    "confirm": ("确认无误", "Confirm"),
    "confirm_help": ("成员是同一客户，下列疑似重复不是", "members are one customer; the possible duplicates listed are not"),
    "split": ("拆分所选记录为新实体", "Split chosen records into a new entity"),
    "move": ("移动记录到其他实体", "Move a record to another entity"),
    "merge": ("与其他实体合并", "Merge with another entity"),
    "different": ("标记为不同客户", "Mark as different"),
    "comment": ("添加备注", "Add a comment"),
    "undo": ("撤销上一步", "Undo the last decision"),
    "undo_what": ("将撤销", "would undo"),
    "search_entity": ("移动记录或合并实体：先搜索目标实体（名称、编号或记录号）",
                      "Move a record or merge: first search the target (name, entity ID or record ID)"),
    "search": ("搜索", "Search"),
    "choose": ("选择", "Choose"),
    "record": ("记录", "Record"),
    "target": ("目标实体", "Target entity"),
    "optional_comment": ("备注（可选）", "Comment (optional)"),
    "weight": ("权重", "Weight"),
    "prior": ("先验（任意两条记录为同一客户的概率）", "Prior (two random records match)"),
    "other_adj": ("其他调整（常见值的词频、校准）", "Other adjustments (term frequency of common values, calibration)"),
    "total": ("合计", "Total"),
    "probability": ("匹配概率", "Match probability"),
    "supports": ("支持同一客户", "points to the same customer"),
    "against": ("指向不同客户", "points to different customers"),
    "neutral": ("无影响", "no effect"),
    "no_pairs": ("模型未对本实体的成员打分（单条记录或仅由人工决定关联）。",
                 "The model scored no pair inside this entity (a single record, or linked by a steward)."),
    "masked": ("部分个人信息已隐藏（查看者权限）", "Personal data masked (viewer role)"),
    "viewer_cannot_act": ("查看者只能浏览，不能做决定。", "Viewers can read but not decide."),
    "done": ("已完成", "Done"),
    "refused": ("操作被拒绝", "Refused"),
    "when": ("时间", "When"),
    "who": ("操作人", "Who"),
    "action": ("操作", "Action"),
    "event": ("事件", "Event"),
    "details": ("详情", "Details"),
    "export_csv": ("导出 CSV", "Export CSV"),
    "from_date": ("开始日期", "From"),
    "to_date": ("结束日期", "To"),
    "undone_by": ("已被撤销", "undone by"),
    "role": ("角色", "Role"),
    "add_user": ("添加用户", "Add user"),
    "disable": ("停用", "Disable"),
    "enable": ("启用", "Enable"),
    "save": ("保存", "Save"),
    "disabled": ("已停用", "disabled"),
    "created": ("创建时间", "Created"),
    "refusals": ("最近的拒绝记录", "Recent refusals"),
    "status": ("状态码", "Status"),
    "path": ("路径", "Path"),
    "back_to_queue": ("返回队列", "Back to the queue"),
    "no_entity": ("实体不存在（可能已被合并或拆分）", "No such entity (it may have been merged or split)"),
    "not_in_queue": ("不在待复核队列中", "not in the review queue"),
    "in_queue": ("待复核", "awaiting review"),
    "pair": ("记录对", "Pair"),
    "mark_different": ("不是同一客户", "Not the same customer"),
    "merge_this": ("合并该实体", "Merge that entity"),
    "version": ("版本", "Version"),
    "empty_queue": ("队列中没有符合条件的实体。", "No entity in the queue matches."),
    "missing": ("未比较（至少一方为空）", "Not compared (empty on one side)"),
    "quality": ("质量分", "Quality"),
    "updated": ("更新时间", "Updated"),
    "lang_switch": ("English", "中文"),
    "forbidden": ("您的角色不允许此操作", "Your role does not allow this"),
    "csrf_failed": ("表单已过期，请刷新页面后重试", "The form expired; reload the page and try again"),
    "during_job": ("个决定是在批处理作业运行期间做出的：已保存为约束，下次运行时生效；当前显示的是该作业的结果。作业",
                   "decision(s) were taken while the last batch job ran: they are kept as constraints and apply on the next run; the entities shown are that job's result. Job"),
    "busy": ("数据库忙，请稍后重试", "The store is busy; try again shortly"),
    "bad_request": ("请求有误", "Bad request"),
    "too_large": ("请求内容过大", "Request too large"),
    # queue workflow
    "search_queue": ("搜索（名称、电话、统一社会信用代码、身份证号、记录号）",
                     "Search (name, phone, USCC, ID card, record ID)"),
    "holder": ("认领人", "Held by"),
    "claim_filter": ("认领", "Claimed"),
    "claim_mine": ("我认领的", "mine"),
    "claim_unclaimed": ("未认领", "unclaimed"),
    "claim_btn": ("认领", "Claim"),
    "release_btn": ("释放", "Release"),
    "assign_btn": ("分配", "Assign"),
    "nobody": ("（无人）", "(nobody)"),
    "assigned_by": ("分配人", "assigned by"),
    "mine_count": ("我认领的待复核", "claimed by me"),
    "matched": ("匹配", "Matched"),
    "likely_duplicate": ("可能重复", "Likely duplicate"),
    "select_all": ("全选本页", "Select the page"),
    "confirm_selected": ("确认所选", "Confirm selected"),
    "bulk_title": ("批量确认", "Bulk confirm"),
    "bulk_ask": ("将逐个确认以下实体无误（各记一条审计记录）：", "Each of these entities will be confirmed as right, one audit row each:"),
    "bulk_go": ("确认这些实体", "Confirm these entities"),
    "bulk_done": ("已确认", "Confirmed"),
    "bulk_skipped": ("已跳过（未做任何更改）", "Skipped (nothing changed)"),
    "save_next": ("确认并下一条", "Confirm & next"),
    "claimed": ("已被他人认领", "Claimed by someone else"),
    "sort_by": ("点击排序", "click to sort"),
    # entity preview, pins, audit, errors
    "http_404": ("页面不存在", "Not found"),
    "http_405": ("不支持的请求方式", "Method not allowed"),
    "http_500": ("服务器内部错误", "Internal error"),
    "back_to_entity": ("返回实体页面并刷新", "Back to the entity (reloaded)"),
    "preview": ("预览", "Preview"),
    "preview_merge": ("预览合并", "Preview the merge"),
    "preview_move": ("预览移动", "Preview the move"),
    "preview_title_merge": ("合并预览", "Merge preview"),
    "preview_title_move": ("移动预览", "Move preview"),
    "preview_help": ("尚未执行任何操作。请核对合并后的黄金记录、目标实体的记录和匹配证据，再确认。",
                     "Nothing has been done yet. Check the resulting golden record, the "
                     "target's records and the evidence, then confirm."),
    "result_golden": ("操作后的黄金记录", "Golden record after"),
    "result_entity": ("结果实体", "Resulting entity"),
    "joining": ("将并入的记录", "joining"),
    "staying": ("目标实体的记录", "target's record"),
    "evidence": ("匹配证据（模型逐项打分）", "Evidence (the model's per-comparison weights)"),
    "no_evidence": ("模型未对这些记录打分（匹配概率过低或不在同一分块）。",
                    "The model scored no pair between these records (too unlikely, or never compared)."),
    "guard_warning": ("系统曾因以下原因将这些记录分开", "The engine keeps these records apart because"),
    "override_check": ("我确认推翻系统拆分：这些记录是同一客户", "I overrule the engine's split: these records are one customer"),
    "confirm_merge": ("确认合并", "Confirm the merge"),
    "confirm_move": ("确认移动", "Confirm the move"),
    "cancel": ("取消", "Cancel"),
    "pin": ("固定值", "Pin"),
    "pins": ("数据管理员固定的值", "Values pinned by a steward"),
    "pin_field": ("字段", "Field"),
    "pin_value": ("固定为", "Value"),
    "pin_reason": ("原因（必填）", "Reason (required)"),
    "pin_do": ("固定此值", "Pin this value"),
    "unpin": ("取消固定", "Unpin"),
    "pinned_by": ("固定人", "Pinned by"),
    "steward_lineage": ("数据管理员固定", "steward"),
    "audit_new": ("新建实体", "new entity"),
    "audit_retired": ("停用实体", "retired"),
    "audit_undoes": ("撤销决定", "undoes"),
    "audit_same": ("{n} 对记录确认为同一客户", "{n} pair(s) marked the same customer"),
    "audit_different": ("{n} 对记录标记为不同客户", "{n} pair(s) marked different customers"),
    "audit_override": ("推翻系统拆分", "overrode the engine's split"),
    "audit_changes": ("黄金记录变化（前 → 后）", "Golden record changes (before → after)"),
    # the ranked queue (cluster.build_review_queue: priority, kind, other_entity_id)
    "priority": ("优先级", "Priority"),
    "kind": ("类型", "Kind"),
    "kind_possible_false_merge": ("可能误合并", "possible false merge"),
    "kind_possible_missed_merge": ("可能漏合并", "possible missed merge"),
    "wrong_chance": ("出错概率", "chance it is wrong"),
    "other_entity": ("可能应合并到", "probably belongs with"),
    "page_of": ("第 {page} / {pages} 页，共 {total} 条", "page {page} of {pages}, {total} rows"),
    # the label page (routes/label.py: `er label next` / `er label add` on the web)
    "label_pairs": ("标注样本对", "Label pairs"),
    "label_help": ("模型对这些记录对最没有把握：您的回答会记为审计决定，“同一客户”/“不同客户”在下次运行时生效，并用于重新训练模型。",
                   "The model is least sure about these pairs: each answer is an audited decision; "
                   "same / different hold in the next run and teach the model when it is retrained."),
    "label_same": ("同一客户", "Same customer"),
    "label_different": ("不同客户", "Different customers"),
    "label_unsure": ("不确定", "Unsure"),
    "label_next": ("下一对（跳过）", "Next (skip)"),
    "label_next_pair": ("下一对", "Next pair"),
    "label_keys": ("快捷键：1 同一客户 · 2 不同客户 · 3 不确定 · N 下一对",
                   "Keys: 1 same · 2 different · 3 unsure · N next"),
    "label_left": ("接近匹配阈值、尚未标注的记录对", "uncertain pairs near the match threshold not yet labelled"),
    "label_threshold": ("匹配阈值", "match threshold"),
    "label_skipped": ("本次会话已跳过", "passed over this session"),
    "label_none": ("没有需要标注的记录对了：接近匹配阈值的记录对都已标注、决定或被跳过（或正由其他管理员标注）。",
                   "No pair left to label: every pair near the match threshold is labelled, "
                   "decided or passed over (or another steward has it on screen)."),
    "label_taken": ("该记录对已有标注", "Already labelled"),
    "label_viewer": ("查看者只能浏览，不能标注。", "Viewers can read but not label."),
    "record_l": ("记录 A", "Record A"),
    "record_r": ("记录 B", "Record B"),
}

# Categories of `review_queue.reason` (cluster.build_review_queue writes the text).
REASONS: dict[str, tuple[str, str, str]] = {
    "weak": ("最弱关联置信度", "最弱关联可能有误", "weakest link may be wrong"),
    "doubtful": ("成员间存在低匹配概率", "成员间匹配概率低", "members scored as probably different"),
    "near": ("存在可能重复的记录", "可能有未合并的重复", "possible duplicate not merged"),
    "split": ("系统已拆分", "系统已拆分", "split by the guard"),
    "large": ("实体过大", "实体过大", "unusually large"),
}

FIELDS: dict[str, tuple[str, str]] = {
    "record_id": ("记录号", "Record ID"),
    "source_system": ("来源系统", "Source"),
    "customer_name": ("客户名称", "Customer name"),
    "customer_type": ("客户类型", "Type"),
    "uscc": ("统一社会信用代码", "Credit code (USCC)"),
    "id_card": ("身份证号", "ID card"),
    "contact_name": ("联系人", "Contact"),
    "mobile": ("手机", "Mobile"),
    "phone": ("电话", "Phone"),
    "email": ("邮箱", "E-mail"),
    "all_mobiles": ("全部手机号", "All mobiles"),
    "all_emails": ("全部邮箱", "All e-mails"),
    "province": ("省份", "Province"),
    "city": ("城市", "City"),
    "district": ("区县", "District"),
    "address": ("地址", "Address"),
    "updated_at": ("更新时间", "Updated"),
    "quality_score": ("质量分", "Quality"),
}

COMPARISONS: dict[str, tuple[str, str]] = {
    "customer_name": ("客户名称", "Customer name"),
    "branch": ("门店/分支", "Branch"),
    "uscc": ("统一社会信用代码", "Credit code"),
    "id_card": ("身份证号", "ID card"),
    "mobile": ("手机", "Mobile"),
    "phone": ("电话", "Phone"),
    "email": ("邮箱", "E-mail"),
    "contact": ("联系人", "Contact"),
    "contact_name": ("联系人", "Contact"),
    "address": ("地址", "Address"),
    "city": ("城市", "City"),
}

LEVELS: dict[str, str] = {
    "missing": "缺失，无法比较",
    "missing or invalid": "缺失或无效，无法比较",
    "neither names a branch": "两者都未注明门店",
    "exact": "完全相同",
    "same pinyin": "拼音相同",
    "most characters shared / pinyin very close": "大部分字相同或拼音非常接近",
    "half the characters shared / pinyin close": "约一半字相同或拼音接近",
    "different": "不同",
    "same branch": "门店相同",
    "only one names a branch": "只有一方注明门店",
    "different branches": "门店不同",
    "same valid identifier": "相同且有效",
    "different valid identifiers": "都有效但不同",
    "same number": "号码相同",
    "a number in common": "有一个号码相同",
    "one digit off": "只差一位数字",
    "same email": "邮箱相同",
    "same mailbox name": "邮箱用户名相同",
    "nearly the same": "几乎相同",
    "pinyin close": "拼音接近",
    "same address": "地址相同",
    "same road and number": "道路和门牌号相同",
    "same road": "道路相同",
    "same district": "区县相同",
}

RULES: dict[str, str] = {
    "source_priority": "来源优先级",
    "most_recent": "最近更新",
    "most_frequent": "出现最多",
    "longest": "最完整",
    "fixed_source": "指定来源",
    "aggregate": "汇总全部",
    # entity preview, pins, audit, errors
    "steward": "数据管理员固定",
}

VALUES: dict[str, tuple[str, str]] = {
    "company": ("企业", "company"),
    "individual": ("个人", "individual"),
    "person": ("个人", "person"),
}

ACTIONS: dict[str, tuple[str, str]] = {
    "confirm": ("确认", "confirm"),
    "split": ("拆分", "split"),
    "move": ("移动", "move"),
    "merge": ("合并", "merge"),
    "different": ("标记不同", "mark different"),
    "comment": ("备注", "comment"),
    "undo": ("撤销", "undo"),
    "must_link": ("同一客户", "must link"),
    "cannot_link": ("不同客户", "cannot link"),
    # queue workflow
    "claim": ("认领", "claim"),
    "release": ("释放认领", "release"),
    # entity preview, pins, audit, errors
    "pin": ("固定值", "pin"),
    "unpin": ("取消固定", "unpin"),
    # active learning (`er label add`, resolution/labels.py)
    "label": ("标注样本对", "label pairs"),
}

# The guard's reasons for keeping records apart (cluster.py's conflict columns), shown on the merge preview and in the audit log.
GUARDS: dict[str, tuple[str, str]] = {
    "uscc_key": ("统一社会信用代码不同", "different valid USCCs"),
    "id_card_key": ("身份证号不同", "different valid ID cards"),
    "name_branch": ("门店/分支机构不同（或门店与总部）", "different branches (or a branch and its head office)"),
}

EVENTS: dict[str, tuple[str, str]] = {
    "create": ("新建", "created"),
    "merge": ("并入", "merged in"),
    "split": ("拆出", "split off"),
    "retire": ("停用", "retired"),
    "records_added": ("新增记录", "records added"),
    "records_removed": ("移除记录", "records removed"),
}


def translator(lang: str):
    i = 1 if lang == "en" else 0

    def t(key: str) -> str:
        return TEXT[key][i] if key in TEXT else key

    def field(name: str) -> str:
        return FIELDS.get(name, (name, name))[i]

    def comparison(name: str) -> str:
        return COMPARISONS.get(name, (name, name))[i]

    def level(label: str) -> str:
        return label if i else LEVELS.get(label, label)

    def action(name: str) -> str:
        return ACTIONS.get(name, (name, name))[i]

    def event(name: str) -> str:
        return EVENTS.get(name, (name, name))[i]

    def reason(key: str) -> str:
        r = REASONS.get(key)
        return (r[2] if i else r[1]) if r else key

    def reason_text(text: str | None) -> str:
        """A queue reason (stored as '中文 (English)；…') in the chosen language."""
        if not text:
            return ""
        parts = []
        # reasons are joined with '；' (a guard split's own reasons may hold one too)
        for part in re.split(r"；(?=实体过大|系统已拆分|成员间|最弱关联|存在可能重复)", text):
            zh = re.sub(r" \([^()]*\)", "", part)
            en = ", ".join(reversed(re.findall(r"\(([^()]*)\)", part)))
            nums = re.findall(r"\d+\.\d+", zh)
            if en and nums:
                en += f" ({', '.join(nums)})"
            parts.append(en if i and en else zh)
        return "; ".join(parts) if i else "；".join(parts)

    def rule(name: str) -> str:
        return name if i else RULES.get(name, name)

    def guard(kind: str) -> str:
        return GUARDS.get(kind, (kind, kind))[i]

    def value(v):
        return VALUES[v][i] if isinstance(v, str) and v in VALUES else v

    t.field, t.comparison, t.level, t.action, t.event = field, comparison, level, action, event
    t.rule, t.value = rule, value
    t.guard = guard  # type: ignore[attr-defined]
    t.reason, t.reason_text, t.lang = reason, reason_text, LANGS[i]
    return t
